"""Hand-off from the API to the publisher: schedule the trigger for posts."""
