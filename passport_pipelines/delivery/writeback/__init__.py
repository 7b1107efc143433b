"""Two-way sync with PowerSchool: golden values written back into the SIS.

One module per step, in the order a write-back runs (``run.write_back``):

- ``fields``   which canonical attribute is which PowerSchool field, per entity;
- ``golden``   the golden people of a committed version, as deliveries see them (master fields);
- ``plan``     which values PowerSchool should receive: UPDATEs where the golden value differs from
               PowerSchool's own record, INSERTs for golden people PowerSchool does not have;
- ``rules``    the guard: PowerSchool's write rules, enforced before anything is sent;
- ``attempts`` what to send now, given what earlier write-backs did (retries, give-ups, inserts
               already made);
- ``requests`` the JSON of each record, as PowerSchool's API takes it;
- ``client``   the API calls: ``POST /ws/v1/student`` batches and the contacts endpoints;
- ``results``  the ``writeback_results`` table: per-record outcomes of every write-back;
- ``report``   counts and tables for Dagster metadata and ``passport history``.

See docs/writeback.md.
"""
