-- An op id is unique per user, not across the project: with `op_id` alone as the key, a user who
-- learned (or guessed) an op id before its owner pushed it could insert it first, and the owner's
-- change would come back "duplicate" and never apply. Found by supabase/tests/rls.test.sql. Safe to
-- run again.
alter table public.applied_ops drop constraint if exists applied_ops_pkey;
alter table public.applied_ops add constraint applied_ops_pkey primary key (user_id, op_id);
