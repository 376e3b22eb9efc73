-- The few pieces of Supabase's platform that supabase/migrations uses, for a plain PostgreSQL.
--
-- On a Supabase project these exist before any user migration runs; a bare `initdb` cluster has
-- none of them, so the cloud tests run this file first. Each piece mirrors Supabase's own
-- definition (written here from the facts, not copied):
--   * roles `anon`, `authenticated` (NOLOGIN NOINHERIT) and `service_role` (NOLOGIN NOINHERIT
--     BYPASSRLS), granted to the `authenticator` login that PostgREST switches from
--     (supabase/storage migrations/tenant/0002-storage-schema.sql, supabase/realtime
--     dev/postgres/00-setup.sql);
--   * the public schema's default privileges: every new table, function and sequence granted to
--     anon, authenticated and service_role (Supabase's initial schema) — which is why the
--     migration revokes what anon must not have;
--   * `auth.users(id uuid)` and `auth.uid()`: the `sub` claim read from `request.jwt.claim.sub`
--     or, as PostgREST ≥ 9 sets it, from the `request.jwt.claims` JSON, empty meaning none
--     (supabase/auth migrations/20211202183645_update_auth_uid.up.sql); `auth.jwt()` and
--     `auth.role()` likewise;
--   * `storage.buckets(id, name, owner, public, file_size_limit bigint, allowed_mime_types text[])`
--     and `storage.objects(id, bucket_id, name, owner, owner_id, metadata, …)` with RLS enabled
--     and `(bucket_id, name)` unique, and `storage.foldername(name)` = the path's folders
--     (supabase/storage migrations/tenant 0002, 0007, 0012, 0014, 0017).
-- The storage API itself (HTTP, TUS, size and MIME checks on upload) is not here: the tests reach
-- the tables as the API would, under the user's role and claims, so the migration's policies decide.

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;

grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

create schema auth;
grant usage on schema auth to anon, authenticated, service_role;

create table auth.users (
  id uuid primary key,
  email text,
  created_at timestamptz not null default now()
);

create function auth.uid() returns uuid
language sql stable
as $$
  select nullif(
    coalesce(
      current_setting('request.jwt.claim.sub', true),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    ),
    ''
  )::uuid
$$;

create function auth.role() returns text
language sql stable
as $$
  select nullif(
    coalesce(
      current_setting('request.jwt.claim.role', true),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    ),
    ''
  )::text
$$;

create function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create schema storage;
grant usage on schema storage to anon, authenticated, service_role;
alter default privileges in schema storage grant all on tables to anon, authenticated, service_role;
alter default privileges in schema storage grant all on functions to anon, authenticated, service_role;

create table storage.buckets (
  id text primary key,
  name text not null unique,
  owner uuid,
  owner_id text,
  public boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

create table storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  metadata jsonb,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  unique (bucket_id, name)
);
alter table storage.objects enable row level security;

-- 'a/b/c.png' → {a,b}: every path segment but the last.
create function storage.foldername(name text) returns text[]
language plpgsql
as $$
declare
  parts text[] := string_to_array(name, '/');
begin
  return parts[1:array_length(parts, 1) - 1];
end
$$;
