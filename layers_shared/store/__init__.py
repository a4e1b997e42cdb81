"""The one DynamoDB table: key schema, item codec and typed access."""
