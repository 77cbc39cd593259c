"""An app whose workflow definition is wrong: loading it must stop start-up with a clear message."""
