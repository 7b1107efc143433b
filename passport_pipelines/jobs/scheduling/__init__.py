"""When districts sync unattended: due times of their schedules, pauses, and new drops."""
