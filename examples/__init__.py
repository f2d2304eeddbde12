"""Built-in examples, shipped as package data (``shixiang_xl.examples``)."""
