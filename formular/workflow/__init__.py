"""The workflow engine: state machines described as data, applied by pure functions.

Send-outs, cases, orders with a lab result and programme modules each follow a workflow
document (``definitions/*.json``, shape in ``schemas/workflow.schema.json``). The engine says
what a transition *would* do; the caller persists it. No Flask, no database.

Other packages import from :mod:`formular.workflow.service` only.
"""
