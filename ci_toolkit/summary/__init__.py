"""What a reviewer reads: the Markdown and HTML summary, the PR comment, annotations."""
