"""Ends sync runs whose process was killed, so their district's queued syncs can run."""

import dagster as dg

from passport_pipelines.jobs.run_liveness import fail_abandoned_runs


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def abandoned_sync_runs(context: dg.SensorEvaluationContext):
    """A sync whose process was killed outright (kill -9, a crash of the machine's OOM killer) stays
    "started" in Dagster, and with one sync per district at a time its district's next syncs would
    wait forever. Every minute, runs that a process of this machine was executing and whose process
    is gone are marked failed. (Runs on other machines are ended by Dagster's run monitoring, after
    `max_runtime_seconds` in the instance's dagster.yaml.)"""
    failed = fail_abandoned_runs(context.instance)
    if not failed:
        return dg.SkipReason("no abandoned sync run")
    context.log.warning(f"marked failed {len(failed)} run(s) whose process is gone: {', '.join(failed)}")
    return dg.SkipReason(f"marked failed: {', '.join(failed)}")
