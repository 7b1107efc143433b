"""The Dagster resources that assets, sensors and jobs share: the golden store (``golden_store``), the
integration files read fresh at every run (``integrations``), the notifier that sends one message to every
target of a district (``notifier``), and the IO manager that keeps each run's hand-offs apart
(``run_handoffs``). May import notifications and the layers below it; never jobs or anything above."""
