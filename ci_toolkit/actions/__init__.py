"""Contract tests of a project's action server: every custom action speaks Rasa's protocol.

``domain`` reads what the domain promises, ``protocol`` builds the requests Rasa would send,
``validate`` checks the answers against what Rasa accepts, ``cases`` holds the team's own
declarative cases, ``server`` starts and talks to the action server, ``run`` runs it all.
"""
