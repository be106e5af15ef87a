from caseledger.billing.db import install_sqlite_flush_guard

install_sqlite_flush_guard()
