CREATE TABLE IF NOT EXISTS chat_users (
  name       VARCHAR(64) NOT NULL PRIMARY KEY,
  salt       VARBINARY(32) NOT NULL,
  hash       VARBINARY(64) NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_groups (
  id         VARCHAR(64) NOT NULL PRIMARY KEY,
  name       VARCHAR(128) NOT NULL,
  owner      VARCHAR(64) NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_members (
  group_id VARCHAR(64) NOT NULL,
  user     VARCHAR(64) NOT NULL,
  PRIMARY KEY (group_id, user),
  KEY by_user (user, group_id)
);
