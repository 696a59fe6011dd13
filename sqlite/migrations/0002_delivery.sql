-- Delivery and speed of service: the hop that took custody of a sent
-- transmission, the destination's control number from its receipt, and
-- when the speed-of-service watch raised its overdue alert.
ALTER TABLE transmissions ADD COLUMN hop TEXT NOT NULL DEFAULT '';
ALTER TABLE transmissions ADD COLUMN control_number TEXT NOT NULL DEFAULT '';
ALTER TABLE transmissions ADD COLUMN overdue_at INTEGER;

-- A transmission received before this migration at a station of the same
-- node has its receipt held: take the control number from it.
UPDATE transmissions SET control_number = r.control_number
FROM receipts r
WHERE r.cable_id = transmissions.cable_id AND r.station = transmissions.destination
  AND transmissions.state = 'received';

-- The speed-of-service watch reads the unreceived, un-alerted
-- transmissions oldest first; the index holds only those.
CREATE INDEX transmissions_unreceived ON transmissions (queued_at, cable_id, destination)
	WHERE state <> 'received' AND overdue_at IS NULL;
