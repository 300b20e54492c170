-- tokenrange counters and the audit log of issued ranges (MariaDB / MySQL).
-- Namespaces are ASCII and case-sensitive, as in every other store.
CREATE TABLE IF NOT EXISTS tokenrange_counter (
    namespace  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    next_token BIGINT UNSIGNED NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    PRIMARY KEY (namespace)
) ENGINE=InnoDB;

-- One row per issued range, written in the transaction that advances the
-- counter. The primary key also refuses to issue a range starting at the
-- same token twice, should the counter ever be moved backwards.
CREATE TABLE IF NOT EXISTS tokenrange_issued (
    namespace VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    lo        BIGINT UNSIGNED NOT NULL,
    hi        BIGINT UNSIGNED NOT NULL,
    owner     VARCHAR(128) NOT NULL DEFAULT '',
    issued_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (namespace, lo)
) ENGINE=InnoDB;
