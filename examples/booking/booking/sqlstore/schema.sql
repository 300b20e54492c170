CREATE TABLE IF NOT EXISTS booking_locality (
  id         VARCHAR(40)  NOT NULL,
  city       VARCHAR(128) NOT NULL,
  state      VARCHAR(128) NOT NULL,
  country    VARCHAR(128) NOT NULL,
  zip_code   VARCHAR(32)  NOT NULL,
  is_active  BOOLEAN      NOT NULL DEFAULT TRUE,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS booking_facilities (
  id           BIGINT       NOT NULL AUTO_INCREMENT,
  display_name VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY booking_facilities_name (display_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS booking_hotel (
  id              VARCHAR(64)  NOT NULL,
  name            VARCHAR(255) NOT NULL,
  locality_id     VARCHAR(40)  NOT NULL,
  description     TEXT         NOT NULL,
  original_images TEXT         NOT NULL,
  display_images  TEXT         NOT NULL,
  is_active       BOOLEAN      NOT NULL,
  version         BIGINT       NOT NULL,
  updated_ms      BIGINT       NOT NULL,
  PRIMARY KEY (id),
  KEY booking_hotel_locality (locality_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS booking_hotel_facilities (
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  hotel_id    VARCHAR(64) NOT NULL,
  facility_id BIGINT      NOT NULL,
  is_active   BOOLEAN     NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY booking_hotel_facilities_pair (hotel_id, facility_id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS booking_rooms (
  id           VARCHAR(64)  NOT NULL,
  hotel_id     VARCHAR(64)  NOT NULL,
  display_name VARCHAR(255) NOT NULL,
  is_active    BOOLEAN      NOT NULL,
  quantity     INT          NOT NULL,
  price_min    DOUBLE       NOT NULL,
  price_max    DOUBLE       NOT NULL,
  PRIMARY KEY (id),
  KEY booking_rooms_hotel (hotel_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS booking_room_facilities (
  id          BIGINT      NOT NULL AUTO_INCREMENT,
  room_id     VARCHAR(64) NOT NULL,
  facility_id BIGINT      NOT NULL,
  is_active   BOOLEAN     NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY booking_room_facilities_pair (room_id, facility_id)
) ENGINE=InnoDB
