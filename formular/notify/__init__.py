"""Notifications to people outside the platform (e-mail now; SMS later).

The texts are made by the services that queue them (``formular.sendouts``) and carry no health
information; this package only delivers what is in the ``notification`` outbox.
"""
