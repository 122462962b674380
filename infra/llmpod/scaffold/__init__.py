"""`llmpod init`: the files of a new project, shipped as package data (files/)."""
