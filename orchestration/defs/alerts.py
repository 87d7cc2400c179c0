"""Runs launched by the schedule fail where nobody watches a terminal: post them to the alert webhook."""

import dagster as dg

from orchestration.lib.alerts import send_alert


@dg.run_failure_sensor(
    description="Posts every failed run (failing step and reason) to MIRROR_TRADE_ALERT_WEBHOOK, when it is set.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    steps = [
        f"{event.step_key}: {event.event_specific_data.error.message.strip().splitlines()[0]}"
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    text = f"mirror-trade run {context.dagster_run.run_id} FAILED: " + (
        "; ".join(steps) or context.failure_event.message
    )
    problem = send_alert(text, {"run_id": context.dagster_run.run_id, "status": "failed", "steps": steps})
    if problem:
        context.log.warning(problem)
