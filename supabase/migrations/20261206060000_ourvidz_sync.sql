-- OurVidz Studio cloud mirror: the OurVidz records, the storage buckets and the rules that lock
-- them to their owner. Apply with `supabase db push` or paste into the SQL editor (docs/cloud.md).
-- Needs PostgreSQL 15 or newer (foreign keys that null one column: `on delete set null (col)`).
--
-- Every synced table has:
--   id          a uuid the desktop makes, so a row has the same id everywhere before it is pushed;
--   user_id     the owner, `default auth.uid()`, never changed once set (trigger) and checked by RLS;
--   clocks      jsonb {column: hybrid logical clock} of the last write that won each column;
--   deleted_at  soft delete (a tombstone other desktops pull), itself a clocked column;
--   server_seq  a change number from one sequence, set by trigger on every insert and update.
-- A hybrid logical clock (HLC) is text 'WWWWWWWWWWWWWWW:CCCCCC:device': wall milliseconds (15
-- digits), a counter (6 digits) and the device id, so plain "C"-collation comparison orders clocks by
-- time, then counter, then device id (the tie-break).
--
-- Change sequence and the safe watermark: the trigger that hands out server_seq first takes a
-- transaction-scoped advisory lock keyed by the row's owner. Two transactions writing the same
-- user's rows therefore run their writes one after the other, and a user's server_seq values commit
-- in the order they were handed out: once a pull sees server_seq N for a user, no later commit for
-- that user can carry a number below N, so `server_seq > cursor` never skips a row that committed
-- late (which pulling by updated_at, or by a sequence without the lock, would).

-- ---------------------------------------------------------------------------------------------
-- Shared pieces
-- ---------------------------------------------------------------------------------------------

create sequence if not exists public.sync_seq as bigint;

-- The id of a one-row-per-element record (a tag on an asset, an asset in a project): the same on
-- every desktop, so two desktops adding the same element make one row, not two.
create or replace function public.sync_element_id(a text, b text) returns uuid
language sql immutable strict parallel safe
set search_path = ''
as $$ select md5(a || ':' || b)::uuid $$;

-- Stamps every write: owner never changes, updated_at, the per-owner lock, the change number.
create or replace function public.sync_stamp() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.user_id is distinct from old.user_id then
    raise exception 'user_id of a % row never changes (row %)', tg_table_name, old.id
      using errcode = '42501', hint = 'Rows belong to the user who made them.';
  end if;
  if new.user_id is not null then
    perform pg_advisory_xact_lock(hashtextextended('ourvidz_sync:' || new.user_id::text, 0));
  end if;
  new.updated_at := now();
  new.server_seq := nextval('public.sync_seq');
  return new;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table if not exists public.user_roles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('admin', 'moderator', 'user')),
  created_at timestamptz not null default now(),
  unique (user_id, role)
);

-- True when the signed-in user has the admin role. SECURITY DEFINER so a policy can ask without
-- recursing into user_roles' own policies; it answers only for auth.uid(), never for another id.
create or replace function public.is_admin() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.user_roles r where r.user_id = auth.uid() and r.role = 'admin'
  )
$$;

create table if not exists public.profiles (
  id uuid primary key default auth.uid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  username text,
  display_name text,
  avatar_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  constraint profiles_id_is_user check (id = user_id)
);

create table if not exists public.characters (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null,
  description text,
  traits text,
  appearance_tags jsonb not null default '[]'::jsonb,
  image_url text,
  persona text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  unique (id, user_id)
);

create table if not exists public.projects (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  title text not null,
  description text,
  original_prompt text,
  enhanced_prompt text,
  media_type text check (media_type in ('image', 'video')),
  duration integer,
  scene_count integer,
  workflow_step text,
  character_id uuid,
  preview_asset_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  unique (id, user_id),
  foreign key (character_id, user_id) references public.characters (id, user_id)
    on delete set null (character_id)
);

create table if not exists public.scenes (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  project_id uuid not null,
  scene_number integer not null,
  description text not null,
  enhanced_prompt text,
  asset_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  foreign key (project_id, user_id) references public.projects (id, user_id) on delete cascade
);

-- Job records: written only by the desktop that ran the job (device_id never changes); a job that
-- reached done, failed or cancelled is final (trigger below).
create table if not exists public.jobs (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  device_id text,
  project_id uuid,
  job_type text not null check (job_type in (
    'sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'image_high', 'video_fast', 'video_high',
    'image7b_fast_enhanced', 'image7b_high_enhanced', 'video7b_fast_enhanced', 'video7b_high_enhanced')),
  model_family text check (model_family in ('sdxl', 'wan')),
  quality text check (quality in ('fast', 'high')),
  format text not null check (format in ('image', 'video')),
  params jsonb not null default '{}'::jsonb,
  original_prompt text not null,
  enhanced_prompt text,
  status text not null check (status in ('queued', 'running', 'done', 'failed', 'cancelled')),
  attempts integer not null default 0,
  error_code text,
  error_message text,
  model_id text,
  provider text,
  provider_note text,
  peak_vram_mb integer,
  timings jsonb not null default '{}'::jsonb,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  unique (id, user_id),
  foreign key (project_id, user_id) references public.projects (id, user_id)
    on delete set null (project_id)
);

create table if not exists public.images (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  job_id uuid,
  project_id uuid,
  bucket text not null check (bucket in (
    'sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'image_high',
    'image7b_fast_enhanced', 'image7b_high_enhanced', 'reference_images', 'user_uploads')),
  storage_path text,
  thumbnail_path text,
  mime text not null default 'image/png',
  width integer,
  height integer,
  file_size bigint not null check (file_size >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  prompt text,
  negative_prompt text,
  enhanced_prompt text,
  seed bigint,
  model text,
  steps integer,
  guidance real,
  scheduler text,
  batch_index integer,
  recipe jsonb not null default '{}'::jsonb,
  timings jsonb not null default '{}'::jsonb,
  favorite boolean not null default false,
  rating smallint not null default 0 check (rating between 0 and 5),
  title text,
  trashed_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete set null (job_id),
  foreign key (project_id, user_id) references public.projects (id, user_id) on delete set null (project_id)
);

create table if not exists public.videos (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  job_id uuid,
  project_id uuid,
  bucket text not null check (bucket in (
    'video_fast', 'video_high', 'video7b_fast_enhanced', 'video7b_high_enhanced', 'user_uploads')),
  storage_path text,
  thumbnail_path text,
  mime text not null default 'video/mp4',
  width integer,
  height integer,
  duration_ms integer,
  fps real,
  frame_count integer,
  file_size bigint not null check (file_size >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  prompt text,
  negative_prompt text,
  enhanced_prompt text,
  seed bigint,
  model text,
  steps integer,
  guidance real,
  scheduler text,
  recipe jsonb not null default '{}'::jsonb,
  timings jsonb not null default '{}'::jsonb,
  favorite boolean not null default false,
  rating smallint not null default 0 check (rating between 0 and 5),
  title text,
  trashed_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete set null (job_id),
  foreign key (project_id, user_id) references public.projects (id, user_id) on delete set null (project_id)
);

-- Append-only: a user may add and read usage rows, never change them.
create table if not exists public.usage_logs (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  action text not null,
  job_id uuid,
  format text,
  quality text,
  credits_consumed numeric not null default 0,
  duration_ms integer,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete set null (job_id)
);

-- One row per tag on an asset. Removing a tag sets deleted_at (a clocked field), adding it again
-- clears it, so an add on one desktop and an unrelated edit on another both survive.
create table if not exists public.asset_tags (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  asset_kind text not null check (asset_kind in ('image', 'video')),
  asset_id uuid not null,
  tag text not null check (length(tag) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  constraint asset_tags_id check (id = public.sync_element_id(asset_id::text, lower(tag)))
);

-- One row per asset in a project, same rules as tags.
create table if not exists public.project_assets (
  id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  project_id uuid not null,
  asset_kind text not null check (asset_kind in ('image', 'video')),
  asset_id uuid not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  clocks jsonb not null default '{}'::jsonb,
  server_seq bigint not null default 0,
  constraint project_assets_id check (id = public.sync_element_id(project_id::text, asset_id::text)),
  foreign key (project_id, user_id) references public.projects (id, user_id) on delete cascade
);

-- Every op id a push applied: a retried push applies each change once.
create table if not exists public.applied_ops (
  op_id uuid primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  applied_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------
-- Triggers, indexes, row-level security
-- ---------------------------------------------------------------------------------------------

-- A finished job (done, failed, cancelled) is final: only its soft delete may still change. The
-- device that ran a job stays its only writer.
create or replace function public.jobs_final() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.device_id is distinct from old.device_id then
    raise exception 'job % was run by device %: its device_id never changes', old.id, old.device_id
      using errcode = '42501';
  end if;
  if old.status in ('done', 'failed', 'cancelled')
     and (to_jsonb(new) - array['deleted_at', 'clocks', 'updated_at', 'server_seq'])
         is distinct from (to_jsonb(old) - array['deleted_at', 'clocks', 'updated_at', 'server_seq']) then
    raise exception 'job % is % and a finished job is never rewritten (only deleted_at may change)',
      old.id, old.status using errcode = '42501';
  end if;
  return new;
end
$$;

drop trigger if exists jobs_final on public.jobs;
create trigger jobs_final before update on public.jobs
  for each row execute function public.jobs_final();

do $$
declare
  t text;
begin
  -- The synced tables: stamp trigger, pull index, RLS and grants.
  foreach t in array array['profiles', 'characters', 'projects', 'scenes', 'jobs', 'images', 'videos',
                           'usage_logs', 'asset_tags', 'project_assets'] loop
    execute format('drop trigger if exists sync_stamp on public.%I', t);
    execute format('create trigger sync_stamp before insert or update on public.%I
                    for each row execute function public.sync_stamp()', t);
    execute format('create index if not exists %I on public.%I (user_id, server_seq)', t || '_pull', t);
    execute format('alter table public.%I enable row level security', t);

    execute format('revoke all on public.%I from anon, authenticated', t);
    execute format('grant all on public.%I to service_role', t);
    execute format('drop policy if exists "owner or admin reads" on public.%I', t);
    execute format('create policy "owner or admin reads" on public.%I for select to authenticated
                    using (user_id = (select auth.uid()) or (select public.is_admin()))', t);
    execute format('drop policy if exists "owner inserts" on public.%I', t);
    execute format('create policy "owner inserts" on public.%I for insert to authenticated
                    with check (user_id = (select auth.uid()))', t);
    if t = 'usage_logs' then
      execute format('grant select, insert on public.%I to authenticated', t);
    else
      execute format('grant select, insert, update, delete on public.%I to authenticated', t);
      execute format('drop policy if exists "owner updates" on public.%I', t);
      execute format('create policy "owner updates" on public.%I for update to authenticated
                      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t);
      execute format('drop policy if exists "owner deletes" on public.%I', t);
      execute format('create policy "owner deletes" on public.%I for delete to authenticated
                      using (user_id = (select auth.uid()))', t);
    end if;
  end loop;
end
$$;

alter table public.user_roles enable row level security;
revoke all on public.user_roles from anon, authenticated;
grant select on public.user_roles to authenticated;
grant all on public.user_roles to service_role;
drop policy if exists "own roles or admin reads" on public.user_roles;
create policy "own roles or admin reads" on public.user_roles for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_admin()));

alter table public.applied_ops enable row level security;
revoke all on public.applied_ops from anon, authenticated;
grant select, insert on public.applied_ops to authenticated;
grant all on public.applied_ops to service_role;
drop policy if exists "owner reads" on public.applied_ops;
create policy "owner reads" on public.applied_ops for select to authenticated
  using (user_id = (select auth.uid()));
drop policy if exists "owner inserts" on public.applied_ops;
create policy "owner inserts" on public.applied_ops for insert to authenticated
  with check (user_id = (select auth.uid()));

revoke all on sequence public.sync_seq from anon;
grant usage on sequence public.sync_seq to authenticated, service_role;

revoke all on function public.is_admin() from public, anon;
grant execute on function public.is_admin() to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Push and pull. SECURITY INVOKER: they run as the caller, so the policies above decide.
-- ---------------------------------------------------------------------------------------------

-- Applies one change: per-column last-writer-wins by HLC. Raises a sentence when it cannot.
create or replace function public.sync_apply(tbl text, row_id uuid, hlc text, fields jsonb)
returns void
language plpgsql security invoker
set search_path = ''
as $$
declare
  known text[];
  cols text[];
  win text[];
  col text;
  row_clocks jsonb;
  win_clocks jsonb := '{}'::jsonb;
  lock_clause text;
  n integer;
begin
  if tbl is null or tbl <> all (array['profiles', 'characters', 'projects', 'scenes', 'jobs', 'images',
                                      'videos', 'usage_logs', 'asset_tags', 'project_assets']) then
    raise exception 'table "%" is not synced (profiles, characters, projects, scenes, jobs, images, videos, usage_logs, asset_tags, project_assets are)', tbl
      using errcode = '22023';
  end if;
  if row_id is null then
    raise exception 'the change to % has no id' , tbl using errcode = '22023';
  end if;
  if hlc is null or hlc !~ '^[0-9]{15}:[0-9]{6}:[A-Za-z0-9_-]{1,64}$' then
    raise exception 'hlc "%" is not a hybrid logical clock (15-digit milliseconds:6-digit counter:device id)', hlc
      using errcode = '22023';
  end if;
  if left(hlc, 15)::bigint > (extract(epoch from clock_timestamp()) * 1000)::bigint + 86400000 then
    raise exception 'hlc % is more than a day ahead of the server clock: fix the device clock and retry', hlc
      using errcode = '22023';
  end if;
  if fields is null or jsonb_typeof(fields) <> 'object' or fields = '{}'::jsonb then
    raise exception 'the change to % % sets no fields', tbl, row_id using errcode = '22023';
  end if;

  select array_agg(a.attname::text) into known
  from pg_catalog.pg_attribute a
  where a.attrelid = ('public.' || tbl)::regclass and a.attnum > 0 and not a.attisdropped
    and a.attname not in ('id', 'user_id', 'clocks', 'server_seq', 'updated_at');
  select array_agg(k order by k) into cols from jsonb_object_keys(fields) k;
  foreach col in array cols loop
    if col <> all (known) then
      raise exception '% has no synced column "%" (id, user_id, clocks, server_seq and updated_at are set by the server)', tbl, col
        using errcode = '22023';
    end if;
  end loop;

  -- Lock the row while merging into it; usage_logs is append-only (no UPDATE grant, so no lock).
  lock_clause := case when tbl = 'usage_logs' then '' else ' for update' end;
  execute format('select clocks from public.%I where id = $1', tbl) || lock_clause into row_clocks using row_id;
  if row_clocks is null then
    select coalesce(jsonb_object_agg(k, hlc), '{}'::jsonb) into win_clocks from unnest(cols) k;
    execute format(
      'insert into public.%1$I (id, %2$s, clocks) select $1, %2$s, $2 from jsonb_populate_record(null::public.%1$I, $3)
       on conflict (id) do nothing',
      tbl, (select string_agg(format('%I', c), ', ') from unnest(cols) c))
      using row_id, win_clocks, fields;
    get diagnostics n = row_count;
    if n = 1 then
      return;
    end if;
    -- Someone inserted it first: merge into theirs, if it is ours to change.
    execute format('select clocks from public.%I where id = $1', tbl) || lock_clause into row_clocks using row_id;
    if row_clocks is null then
      raise exception 'id % in % belongs to a row you cannot change', row_id, tbl using errcode = '42501';
    end if;
  end if;

  select array_agg(c order by c) into win
  from unnest(cols) c
  where coalesce(row_clocks ->> c, '') collate "C" < hlc collate "C";
  if win is null then
    return; -- every field already holds a newer write: nothing to do, and that is success
  end if;
  select jsonb_object_agg(c, hlc) into win_clocks from unnest(win) c;
  execute format(
    'update public.%1$I set (%2$s) = (select %2$s from jsonb_populate_record(null::public.%1$I, $1)),
       clocks = clocks || $2 where id = $3',
    tbl, (select string_agg(format('%I', c), ', ') from unnest(win) c))
    using fields, win_clocks, row_id;
  get diagnostics n = row_count;
  if n <> 1 then
    raise exception 'id % in % belongs to a row you cannot change', row_id, tbl using errcode = '42501';
  end if;
end
$$;

-- ops: a JSON array of {op_id, table, id, hlc, set: {column: value}}. Each op applies once (op_id
-- in applied_ops) in its own subtransaction; one op's failure is reported and the others still
-- apply. Returns {applied, duplicate, rejected, results: [{op_id, status, reason?}]}.
create or replace function public.sync_push(ops jsonb) returns jsonb
language plpgsql security invoker
set search_path = ''
as $$
declare
  op jsonb;
  op_id uuid;
  n integer;
  results jsonb := '[]'::jsonb;
  applied integer := 0;
  duplicate integer := 0;
  rejected integer := 0;
  reason text;
begin
  if auth.uid() is null then
    raise exception 'sync_push needs a signed-in user (the request carries no user id)' using errcode = '42501';
  end if;
  if ops is null or jsonb_typeof(ops) <> 'array' then
    raise exception 'sync_push takes a JSON array of changes' using errcode = '22023';
  end if;
  if jsonb_array_length(ops) > 1000 then
    raise exception 'sync_push takes at most 1000 changes at a time (got %): send them in batches', jsonb_array_length(ops)
      using errcode = '22023';
  end if;

  for op in select value from jsonb_array_elements(ops) loop
    begin
      op_id := (op ->> 'op_id')::uuid;
      if op_id is null then
        raise exception 'a change has no op_id' using errcode = '22023';
      end if;
      insert into public.applied_ops (op_id) values (op_id) on conflict do nothing;
      get diagnostics n = row_count;
      if n = 0 then
        duplicate := duplicate + 1;
        results := results || jsonb_build_object('op_id', op -> 'op_id', 'status', 'duplicate');
      else
        perform public.sync_apply(op ->> 'table', (op ->> 'id')::uuid, op ->> 'hlc', op -> 'set');
        applied := applied + 1;
        results := results || jsonb_build_object('op_id', op -> 'op_id', 'status', 'applied');
      end if;
    exception when others then
      get stacked diagnostics reason = message_text;
      rejected := rejected + 1;
      results := results || jsonb_build_object('op_id', op -> 'op_id', 'status', 'rejected', 'reason', reason);
    end;
  end loop;
  return jsonb_build_object('applied', applied, 'duplicate', duplicate, 'rejected', rejected, 'results', results);
end
$$;

-- The signed-in user's rows changed after `since` (0: everything), oldest change first, at most
-- `lim`. The next cursor is the last row's seq. Soft-deleted rows come back as tombstones.
create or replace function public.sync_pull(since bigint, lim integer default 500)
returns table (entity text, entity_id uuid, seq bigint, data jsonb)
language plpgsql stable security invoker
set search_path = ''
as $$
declare
  uid uuid := auth.uid();
begin
  if uid is null then
    raise exception 'sync_pull needs a signed-in user (the request carries no user id)' using errcode = '42501';
  end if;
  if since is null or since < 0 then
    raise exception 'since must be 0 (everything) or the seq of the last row an earlier pull returned (got %)', since
      using errcode = '22023';
  end if;
  if lim is null or lim < 1 or lim > 1000 then
    raise exception 'lim must be from 1 to 1000 (got %)', lim using errcode = '22023';
  end if;
  return query
  select u.e, u.i, u.s, u.d from (
    (select 'profiles'::text e, x.id i, x.server_seq s, to_jsonb(x) d from public.profiles x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'characters', x.id, x.server_seq, to_jsonb(x) from public.characters x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'projects', x.id, x.server_seq, to_jsonb(x) from public.projects x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'scenes', x.id, x.server_seq, to_jsonb(x) from public.scenes x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'jobs', x.id, x.server_seq, to_jsonb(x) from public.jobs x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'images', x.id, x.server_seq, to_jsonb(x) from public.images x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'videos', x.id, x.server_seq, to_jsonb(x) from public.videos x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'usage_logs', x.id, x.server_seq, to_jsonb(x) from public.usage_logs x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'asset_tags', x.id, x.server_seq, to_jsonb(x) from public.asset_tags x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
    union all
    (select 'project_assets', x.id, x.server_seq, to_jsonb(x) from public.project_assets x
      where x.user_id = uid and x.server_seq > since order by x.server_seq limit lim)
  ) u
  order by u.s
  limit lim;
end
$$;

revoke all on function public.sync_apply(text, uuid, text, jsonb) from public, anon;
revoke all on function public.sync_push(jsonb) from public, anon;
revoke all on function public.sync_pull(bigint, integer) from public, anon;
grant execute on function public.sync_apply(text, uuid, text, jsonb) to authenticated, service_role;
grant execute on function public.sync_push(jsonb) to authenticated, service_role;
grant execute on function public.sync_pull(bigint, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Storage: one private bucket per job type, PNG or MP4 only, objects under '<user id>/...'
-- ---------------------------------------------------------------------------------------------

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types) values
  ('sdxl_image_fast', 'sdxl_image_fast', false, 5 * 1024 * 1024, array['image/png']),
  ('sdxl_image_high', 'sdxl_image_high', false, 10 * 1024 * 1024, array['image/png']),
  ('image_fast', 'image_fast', false, 5 * 1024 * 1024, array['image/png']),
  ('image_high', 'image_high', false, 10 * 1024 * 1024, array['image/png']),
  ('video_fast', 'video_fast', false, 50 * 1024 * 1024, array['video/mp4']),
  ('video_high', 'video_high', false, 200 * 1024 * 1024, array['video/mp4']),
  ('image7b_fast_enhanced', 'image7b_fast_enhanced', false, 20 * 1024 * 1024, array['image/png']),
  ('image7b_high_enhanced', 'image7b_high_enhanced', false, 20 * 1024 * 1024, array['image/png']),
  ('video7b_fast_enhanced', 'video7b_fast_enhanced', false, 100 * 1024 * 1024, array['video/mp4']),
  ('video7b_high_enhanced', 'video7b_high_enhanced', false, 100 * 1024 * 1024, array['video/mp4'])
on conflict (id) do update set
  public = excluded.public,
  file_size_limit = excluded.file_size_limit,
  allowed_mime_types = excluded.allowed_mime_types;

create or replace function public.is_ourvidz_bucket(bucket text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select bucket in ('sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'image_high', 'video_fast',
    'video_high', 'image7b_fast_enhanced', 'image7b_high_enhanced', 'video7b_fast_enhanced',
    'video7b_high_enhanced')
$$;

-- No update policy: files live at content-hash paths and are never overwritten.
drop policy if exists "ourvidz: owner or admin reads files" on storage.objects;
create policy "ourvidz: owner or admin reads files" on storage.objects for select to authenticated
  using (public.is_ourvidz_bucket(bucket_id)
         and ((storage.foldername(name))[1] = (select auth.uid())::text or (select public.is_admin())));
drop policy if exists "ourvidz: owner uploads to own folder" on storage.objects;
create policy "ourvidz: owner uploads to own folder" on storage.objects for insert to authenticated
  with check (public.is_ourvidz_bucket(bucket_id) and (storage.foldername(name))[1] = (select auth.uid())::text);
drop policy if exists "ourvidz: owner deletes own files" on storage.objects;
create policy "ourvidz: owner deletes own files" on storage.objects for delete to authenticated
  using (public.is_ourvidz_bucket(bucket_id) and (storage.foldername(name))[1] = (select auth.uid())::text);
