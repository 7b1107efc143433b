"""Google Workspace: Admin SDK Directory users as a source of staff and student accounts."""
