"""The service's own state: what ``api/`` keeps beside the chain.

The chain and the document store are the ledger's truth; the service adds state of its own that
the library's writes do not need: its SQLite database (:mod:`ledger.service.database`), the write
journal (:mod:`ledger.service.journal`), the contract calls it keeps (:mod:`ledger.service.calls`)
and the transaction manager that sends them (:mod:`ledger.service.transactions`), API tokens
(:mod:`ledger.service.tokens`), the audit log (:mod:`ledger.service.audit`), batch anchoring jobs
(:mod:`ledger.service.batch_jobs`), subjects' consents to windows (:mod:`ledger.service.consents`),
the certificates by issuing department
(:mod:`ledger.service.certificate_index`) and the verification reports kept between requests
(:mod:`ledger.service.verification_index`).

It lives under ``ledger/`` rather than ``api/`` because none of it speaks HTTP: nothing here
imports FastAPI, so it can be tested and reached without the web layer. ``api`` is its user. The
CLI touches it only where it manages this same state: ``ledger token`` issues and revokes API
tokens, ``ledger department add`` remembers a department's name in the service database,
``ledger serve`` claims that database (:func:`ledger.service.database.lock_service_database`), and
``scripts/seed_demo.py`` issues the demo's tokens. That does not make it the CLI's: it is still the
service's state, which the CLI administers.

The package imports none of its modules, so importing one (as :mod:`ledger.session` does) loads
only that one.
"""
