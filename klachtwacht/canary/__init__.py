"""Canary probes: a signed mail sent each night to a mailbox, recognised on arrival, checked the night after.

``token`` signs and checks the header (pure); ``probe`` sends the night's
probes; ``gate`` is the pipeline step that recognises a probe right after
parsing, before classification. The reconciliation check is in
:mod:`klachtwacht.reconcile.canary`.
"""
