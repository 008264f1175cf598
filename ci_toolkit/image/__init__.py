"""The action-server image: request, build context, names and tags, build, container check, push."""
