"""The action-server image: build context, names and tags, build, push, container check."""
