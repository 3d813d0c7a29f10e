-- API bearer tokens (hashed) with roles: written by the admin API work.
SELECT 1;
