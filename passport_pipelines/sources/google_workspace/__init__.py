"""Google Workspace: Admin SDK Directory users as a source of staff and student accounts (``connector``;
``directory`` reads ``users.list`` page after page, ``service_account`` gets the delegated token)."""
