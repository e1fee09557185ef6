DROP TABLE IF EXISTS rm_messages;
DROP TABLE IF EXISTS message_contents;
