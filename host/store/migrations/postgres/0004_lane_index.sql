-- Fair claiming caps how many events of one tenant × plugin run at once; counting the running
-- events of a lane must not scan its (ever growing) history of done events.
CREATE INDEX events_lane_status ON events (tenant_id, plugin_id, status);
