-- reservation: room inventory per night, bookings, the claims of live holds
-- and idempotency records (MariaDB / MySQL). IDs and keys are printable
-- ASCII and case-sensitive. Times are UTC.

-- One row per (room, night): the design notes' "Available rooms" table.
-- available = initial - rooms Booked - rooms claimed by Reserved holds
-- (expired claims included until someone releases them).
CREATE TABLE IF NOT EXISTS reservation_inventory (
    room_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    night     DATE NOT NULL,
    initial   INT NOT NULL,
    available INT NOT NULL,
    PRIMARY KEY (room_id, night),
    CONSTRAINT reservation_inventory_bounds CHECK (available >= 0 AND available <= initial)
) ENGINE=InnoDB;

-- One row per booking: the design notes' "Booking" table.
CREATE TABLE IF NOT EXISTS reservation_booking (
    id              VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    idem_key        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    room_id         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    check_in        DATE NOT NULL,
    check_out       DATE NOT NULL,
    quantity        INT NOT NULL,
    state           VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    reason          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    expires_at      DATETIME(6) NOT NULL,
    payment_id      VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    invoice_id      VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    refund_required BOOLEAN NOT NULL DEFAULT FALSE,
    -- the cancelled hold that a late payment rebooked (at most one booking each)
    rebooks         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
    version         BIGINT NOT NULL,
    created_at      DATETIME(6) NOT NULL,
    updated_at      DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY reservation_booking_rebooks (rebooks),
    KEY reservation_booking_deadline (state, expires_at),
    KEY reservation_booking_checkout (state, check_out),
    -- a user's bookings, newest first
    KEY reservation_booking_user (user_id, created_at, id),
    -- terminal bookings by age, for archiving
    KEY reservation_booking_archivable (state, updated_at, id),
    -- a room's current bookings by check-in (ByRoom), one range per state
    KEY reservation_booking_room (room_id, state, check_in, id)
) ENGINE=InnoDB;

-- The rooms a Reserved hold still claims, one row per night. A row leaves
-- this table in the transaction that returns its rooms to available (hold
-- expired, failed or cancelled) or turns them into booked rooms (paid).
-- Rows are locked only by primary-key equality.
CREATE TABLE IF NOT EXISTS reservation_claim (
    room_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    night      DATE NOT NULL,
    booking_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    quantity   INT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (room_id, night, booking_id)
) ENGINE=InnoDB;

-- One row per idempotency key: the request's fingerprint and its outcome
-- (the booking it created, or the night that was sold out).
CREATE TABLE IF NOT EXISTS reservation_idempotency (
    idem_key           VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    fingerprint        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    booking_id         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    sold_out_night     DATE NULL,
    sold_out_available INT NULL,
    created_at         DATETIME(6) NOT NULL,
    PRIMARY KEY (idem_key),
    KEY reservation_idempotency_created (created_at)
) ENGINE=InnoDB;
