"""Services of the generation app: submit and regenerate, the run behind the Celery task, guard rails."""
