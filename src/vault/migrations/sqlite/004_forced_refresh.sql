-- Forced refreshes limited per connection (FORCED_REFRESH_MIN_INTERVAL): when the last forced refresh of a connection
-- was claimed (epoch ms), across every process sharing the store. NULL: never forced. Taken by one atomic UPDATE
-- (src/vault/store/sql-forced.ts), never read-then-write.
ALTER TABLE connections ADD COLUMN forced_refresh_at BIGINT NULL;
