DROP TABLE IF EXISTS api_token_usage;
