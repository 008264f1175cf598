"""Everything that knows rasa: its command lines, and the files and lines it writes."""
