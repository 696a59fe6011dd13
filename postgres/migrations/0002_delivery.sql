-- Delivery and speed of service: the hop that took custody of a sent
-- transmission, the destination's control number from its receipt, and
-- when the speed-of-service watch raised its overdue alert.
ALTER TABLE transmissions
	ADD COLUMN hop            text NOT NULL DEFAULT '',
	ADD COLUMN control_number text NOT NULL DEFAULT '',
	ADD COLUMN overdue_at     timestamptz;

-- A transmission received before this migration at a station of the same
-- node has its receipt held: take the control number from it.
UPDATE transmissions t SET control_number = r.control_number
FROM receipts r
WHERE r.cable_id = t.cable_id AND r.station = t.destination AND t.state = 'received';

-- The speed-of-service watch reads the unreceived, un-alerted
-- transmissions oldest first; the index holds only those.
CREATE INDEX transmissions_unreceived ON transmissions (queued_at, cable_id, destination)
	WHERE state <> 'received' AND overdue_at IS NULL;
