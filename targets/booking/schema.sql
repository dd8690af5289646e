-- Trucks with a weight capacity, and the shipments booked onto them.
CREATE TABLE trucks (
  id          integer PRIMARY KEY,
  capacity_kg integer NOT NULL CHECK (capacity_kg > 0),
  booked_kg   integer NOT NULL DEFAULT 0
);

CREATE TABLE bookings (
  id          bigserial PRIMARY KEY,
  shipment_id text    NOT NULL,
  truck_id    integer NOT NULL REFERENCES trucks (id),
  weight_kg   integer NOT NULL CHECK (weight_kg > 0),
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
