-- Row-level security of the OurVidz cloud mirror, proven in SQL with pgTAP: every table of
-- supabase/migrations × select, insert, update, delete × anon, the owner, another signed-in user,
-- an admin (per public.user_roles) and service_role, each asserted allowed or refused; then
-- storage.objects in the OurVidz buckets, the finished-job and append-only rules, and the push and
-- pull functions (SECURITY INVOKER, so the same policies hold through them).
--
-- Run it
--   * here: tests/integration/cloud-rls-pgtap.test.ts applies the migrations to a throwaway
--     PostgreSQL with pgTAP and runs this file through psql;
--   * against a Supabase project with the migrations applied: `supabase test db` (the CLI enables
--     pgTAP for the run).
-- Everything happens inside one transaction that is rolled back at the end: the fixture users,
-- rows, bucket and files below never persist.
--
-- Requests are made the way Supabase's API makes them: `set local role` to the request's role and
-- `set local request.jwt.claims` to its token's claims (auth.uid() reads `sub` from them).
-- Refusals come in three shapes, each asserted as what it is:
--   * no privilege at all (anon on the public tables, writes to append-only or read-only tables):
--     42501 "permission denied for table …";
--   * a write whose new row a policy's WITH CHECK refuses (forged user_id, another user's folder):
--     42501 "new row violates row-level security policy …";
--   * a read, update or delete of rows a policy's USING hides: no error, zero rows (is_empty on the
--     statement's RETURNING).

begin;
select plan(335);

-- -----------------------------------------------------------------------------------------------
-- Fixtures: three users (A owns the rows under test, B is another user, ADMIN has the admin role),
-- the rows other rows point at, and helpers.
-- -----------------------------------------------------------------------------------------------

--   A      a0000000-0000-4000-8000-00000000000a
--   B      b0000000-0000-4000-8000-00000000000b
--   ADMIN  ad000000-0000-4000-8000-0000000000ad
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-00000000000a', 'rls-test-a@ourvidz.test'),
  ('b0000000-0000-4000-8000-00000000000b', 'rls-test-b@ourvidz.test'),
  ('ad000000-0000-4000-8000-0000000000ad', 'rls-test-admin@ourvidz.test');

-- A bucket that is not OurVidz's: the migration's storage policies must grant nothing in it.
insert into storage.buckets (id, name, public) values ('rls_test_other_app', 'rls_test_other_app', false);

-- Seeded with the service key (service_role bypasses RLS), each row under its owner's id:
-- a project (f1…), a queued job (f2…), an image (f3…) per user, and A's finished (f4…) and running
-- (f5…) jobs. The rows under test in each table's matrix are made by the matrix itself.
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
-- A project whose own trigger makes a profile for every new auth user: start these users without.
delete from public.profiles where id in
  ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b', 'ad000000-0000-4000-8000-0000000000ad');
insert into public.user_roles (user_id, role) values
  ('a0000000-0000-4000-8000-00000000000a', 'user'),
  ('b0000000-0000-4000-8000-00000000000b', 'user'),
  ('ad000000-0000-4000-8000-0000000000ad', 'admin');
insert into public.projects (id, user_id, title) values
  ('f1000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'A anchor'),
  ('f1000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000b', 'B anchor');
insert into public.jobs (id, user_id, device_id, job_type, format, original_prompt, status) values
  ('f2000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'deskA', 'image_fast', 'image', 'anchor', 'queued'),
  ('f2000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000b', 'deskB', 'image_fast', 'image', 'anchor', 'queued'),
  ('f4000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'deskA', 'video_fast', 'video', 'a finished job', 'done'),
  ('f5000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'deskA', 'video_fast', 'video', 'a running job', 'running');
insert into public.images (id, user_id, bucket, storage_path, file_size, sha256, job_id, project_id) values
  ('f3000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a', 'image_fast',
   'a0000000-0000-4000-8000-00000000000a/seeded-a.png', 1, repeat('a', 64),
   'f2000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-00000000000a'),
  ('f3000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000b', 'image_fast',
   'b0000000-0000-4000-8000-00000000000b/seeded-b.png', 1, repeat('b', 64),
   'f2000000-0000-4000-8000-00000000000b', 'f1000000-0000-4000-8000-00000000000b');
insert into storage.objects (bucket_id, name, owner) values
  ('image_fast', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png', 'a0000000-0000-4000-8000-00000000000a'),
  ('image_fast', 'b0000000-0000-4000-8000-00000000000b/seeded-b.png', 'b0000000-0000-4000-8000-00000000000b'),
  ('rls_test_other_app', 'a0000000-0000-4000-8000-00000000000a/other-app.png', 'a0000000-0000-4000-8000-00000000000a');
reset role;

-- Becomes one of the five callers for the rest of the transaction, exactly as the `set local role`
-- and `set local request.jwt.claims` statements in the sections below do (set_config(…, true) is
-- SET LOCAL), for use inside pg_temp.rls_matrix.
create function pg_temp.act_as(who text) returns void
language plpgsql
as $$
declare
  uid text := case who
    when 'owner' then 'a0000000-0000-4000-8000-00000000000a'
    when 'other' then 'b0000000-0000-4000-8000-00000000000b'
    when 'admin' then 'ad000000-0000-4000-8000-0000000000ad'
  end;
begin
  if who not in ('anon', 'owner', 'other', 'admin', 'service') then
    raise exception 'act_as: unknown caller %', who;
  end if;
  perform set_config('role', case who when 'anon' then 'anon' when 'service' then 'service_role' else 'authenticated' end, true);
  perform set_config('request.jwt.claims',
    case who
      when 'anon' then '{"role": "anon"}'
      when 'service' then '{"role": "service_role"}'
      else json_build_object('sub', uid, 'role', 'authenticated')::text
    end, true);
end
$$;

-- The matrix for one synced table: select, insert, update and delete as anon, the owner (A),
-- another user (B), an admin and service_role. `cols` are the columns a new row sets besides id
-- and user_id; `vals_a` / `vals_b` their values for a row of A / of B (pointing at that user's
-- anchors). A makes row_a itself (user_id from the token); service_role makes row_b for B — after
-- A and the admin were refused making the very same row, so those refusals are about who asks,
-- not about the row. append_only: the table grants signed-in users no update or delete at all.
-- takeover_errcode: what B gets upserting onto A's row id (42501 from RLS or the missing grant;
-- profiles refuse it earlier, by their id = user_id check).
create function pg_temp.rls_matrix(tbl text, cols text, row_a uuid, vals_a text, row_b uuid, vals_b text,
                                   append_only boolean default false, takeover_errcode text default '42501')
returns setof text
language plpgsql
as $$
declare
  a constant uuid := 'a0000000-0000-4000-8000-00000000000a';
  b constant uuid := 'b0000000-0000-4000-8000-00000000000b';
  no_grant constant text := format('permission denied for table %s', tbl);
  rls_check constant text := format('new row violates row-level security policy for table "%s"', tbl);
  ins_own text := format('insert into public.%I (id, %s) values (%L, %s)', tbl, cols, row_a, vals_a);
  ins_b text := format('insert into public.%I (id, user_id, %s) values (%L, %L, %s)', tbl, cols, row_b, b, vals_b);
  both_rows text := format('select id from public.%I where id in (%L, %L) order by user_id', tbl, row_a, row_b);
  upd_a text := format('update public.%I set deleted_at = now() where id = %L returning id', tbl, row_a);
  upd_b text := format('update public.%I set deleted_at = now() where id = %L returning id', tbl, row_b);
  del_a text := format('delete from public.%I where id = %L returning id', tbl, row_a);
  del_b text := format('delete from public.%I where id = %L returning id', tbl, row_b);
begin
  -- insert
  perform pg_temp.act_as('anon');
  return next throws_ok(format('insert into public.%I (id, user_id, %s) values (%L, %L, %s)', tbl, cols, row_a, a, vals_a),
    '42501', no_grant, tbl || ' · insert · anon: refused (no grant)');
  perform pg_temp.act_as('owner');
  return next lives_ok(ins_own, tbl || ' · insert · owner: allowed');
  return next results_eq(format('select user_id from public.%I where id = %L', tbl, row_a), array[a],
    tbl || ' · insert · owner: user_id filled from the token');
  return next throws_ok(ins_b, '42501', rls_check, tbl || ' · insert · owner: a row under another user''s id (forged user_id) refused');
  perform pg_temp.act_as('admin');
  return next throws_ok(ins_b, '42501', rls_check, tbl || ' · insert · admin: a row under another user''s id refused');
  perform pg_temp.act_as('service');
  return next lives_ok(ins_b, tbl || ' · insert · service_role: a row for any user allowed');
  perform pg_temp.act_as('other');
  return next throws_ok(
    format('insert into public.%I (id, %s) values (%L, %s) on conflict (id) do update set deleted_at = now()', tbl, cols, row_a, vals_a),
    takeover_errcode, null, tbl || ' · insert · other user: upsert onto the owner''s row id refused');

  -- select
  perform pg_temp.act_as('anon');
  return next throws_ok(format('select * from public.%I', tbl), '42501', no_grant, tbl || ' · select · anon: refused (no grant)');
  perform pg_temp.act_as('owner');
  return next results_eq(both_rows, array[row_a], tbl || ' · select · owner: sees their row, not another user''s');
  perform pg_temp.act_as('other');
  return next results_eq(both_rows, array[row_b], tbl || ' · select · other user: does not see the owner''s row');
  perform pg_temp.act_as('admin');
  return next results_eq(both_rows, array[row_a, row_b], tbl || ' · select · admin: sees every user''s rows');
  perform pg_temp.act_as('service');
  return next results_eq(both_rows, array[row_a, row_b], tbl || ' · select · service_role: sees every row');

  -- update
  perform pg_temp.act_as('anon');
  return next throws_ok(upd_a, '42501', no_grant, tbl || ' · update · anon: refused (no grant)');
  if append_only then
    perform pg_temp.act_as('owner');
    return next throws_ok(upd_a, '42501', no_grant, tbl || ' · update · owner: refused (append-only: no update grant)');
    return next throws_ok(format('update public.%I set user_id = %L where id = %L', tbl, b, row_a), '42501', no_grant,
      tbl || ' · update · owner: moving the row to another user refused');
    perform pg_temp.act_as('other');
    return next throws_ok(upd_a, '42501', no_grant, tbl || ' · update · other user: refused (no update grant)');
    perform pg_temp.act_as('admin');
    return next throws_ok(upd_a, '42501', no_grant, tbl || ' · update · admin: refused (no update grant)');
  else
    perform pg_temp.act_as('owner');
    return next results_eq(upd_a, array[row_a], tbl || ' · update · owner: allowed');
    return next throws_ok(format('update public.%I set user_id = %L where id = %L', tbl, b, row_a), '42501',
      format('user_id of a %s row never changes (row %s)', tbl, row_a),
      tbl || ' · update · owner: moving the row to another user (forged user_id) refused');
    perform pg_temp.act_as('other');
    return next is_empty(upd_a, tbl || ' · update · other user: the owner''s row is not touched');
    perform pg_temp.act_as('admin');
    return next is_empty(upd_a, tbl || ' · update · admin: another user''s row is not touched (admins only read)');
  end if;
  perform pg_temp.act_as('service');
  return next results_eq(upd_b, array[row_b], tbl || ' · update · service_role: allowed');

  -- delete
  perform pg_temp.act_as('anon');
  return next throws_ok(del_a, '42501', no_grant, tbl || ' · delete · anon: refused (no grant)');
  if append_only then
    perform pg_temp.act_as('other');
    return next throws_ok(del_a, '42501', no_grant, tbl || ' · delete · other user: refused (no delete grant)');
    perform pg_temp.act_as('admin');
    return next throws_ok(del_a, '42501', no_grant, tbl || ' · delete · admin: refused (no delete grant)');
    perform pg_temp.act_as('owner');
    return next throws_ok(del_a, '42501', no_grant, tbl || ' · delete · owner: refused (append-only: no delete grant)');
  else
    perform pg_temp.act_as('other');
    return next is_empty(del_a, tbl || ' · delete · other user: the owner''s row is not deleted');
    perform pg_temp.act_as('admin');
    return next is_empty(del_a, tbl || ' · delete · admin: another user''s row is not deleted');
    perform pg_temp.act_as('owner');
    return next results_eq(del_a, array[row_a], tbl || ' · delete · owner: allowed');
  end if;
  perform pg_temp.act_as('service');
  return next results_eq(del_b, array[row_b], tbl || ' · delete · service_role: allowed');
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end
$$;

-- -----------------------------------------------------------------------------------------------
-- Row-level security is on for every table the migration makes, and for storage.objects.
-- -----------------------------------------------------------------------------------------------

select is_empty(
  $$select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity
      and c.relname in ('user_roles', 'profiles', 'characters', 'projects', 'scenes', 'jobs', 'images',
                        'videos', 'usage_logs', 'asset_tags', 'project_assets', 'applied_ops')$$,
  'row-level security is enabled on every OurVidz table');
select results_eq(
  $$select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'r'
      and c.relname in ('user_roles', 'profiles', 'characters', 'projects', 'scenes', 'jobs', 'images',
                        'videos', 'usage_logs', 'asset_tags', 'project_assets', 'applied_ops')$$,
  array[12], 'all twelve OurVidz tables exist');
select ok((select relrowsecurity from pg_class where oid = 'storage.objects'::regclass),
  'row-level security is enabled on storage.objects');

-- -----------------------------------------------------------------------------------------------
-- The synced tables: 23 assertions each (usage_logs: append-only).
-- -----------------------------------------------------------------------------------------------

select * from pg_temp.rls_matrix('profiles', 'username',
  'a0000000-0000-4000-8000-00000000000a', $$'ada'$$,
  'b0000000-0000-4000-8000-00000000000b', $$'bob'$$,
  takeover_errcode => '23514');
select * from pg_temp.rls_matrix('characters', 'name',
  '10000000-0000-4000-8000-00000000000a', $$'Ada'$$,
  '10000000-0000-4000-8000-00000000000b', $$'Bob'$$);
select * from pg_temp.rls_matrix('projects', 'title',
  '20000000-0000-4000-8000-00000000000a', $$'A project'$$,
  '20000000-0000-4000-8000-00000000000b', $$'B project'$$);
select * from pg_temp.rls_matrix('scenes', 'project_id, scene_number, description',
  '30000000-0000-4000-8000-00000000000a', $$'f1000000-0000-4000-8000-00000000000a', 1, 'opening'$$,
  '30000000-0000-4000-8000-00000000000b', $$'f1000000-0000-4000-8000-00000000000b', 1, 'opening'$$);
select * from pg_temp.rls_matrix('jobs', 'device_id, job_type, format, original_prompt, status',
  '40000000-0000-4000-8000-00000000000a', $$'deskA', 'image_fast', 'image', 'a cat', 'queued'$$,
  '40000000-0000-4000-8000-00000000000b', $$'deskB', 'image_fast', 'image', 'a dog', 'queued'$$);
select * from pg_temp.rls_matrix('images', 'bucket, file_size, sha256, job_id, project_id',
  '50000000-0000-4000-8000-00000000000a',
  $$'image_fast', 1234, repeat('c', 64), 'f2000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-00000000000a'$$,
  '50000000-0000-4000-8000-00000000000b',
  $$'image_fast', 1234, repeat('d', 64), 'f2000000-0000-4000-8000-00000000000b', 'f1000000-0000-4000-8000-00000000000b'$$);
select * from pg_temp.rls_matrix('videos', 'bucket, file_size, sha256, job_id',
  '60000000-0000-4000-8000-00000000000a', $$'video_fast', 10, repeat('e', 64), 'f2000000-0000-4000-8000-00000000000a'$$,
  '60000000-0000-4000-8000-00000000000b', $$'video_fast', 10, repeat('f', 64), 'f2000000-0000-4000-8000-00000000000b'$$);
select * from pg_temp.rls_matrix('usage_logs', 'action, job_id, credits_consumed',
  '70000000-0000-4000-8000-00000000000a', $$'generate', 'f2000000-0000-4000-8000-00000000000a', 1$$,
  '70000000-0000-4000-8000-00000000000b', $$'generate', 'f2000000-0000-4000-8000-00000000000b', 1$$,
  append_only => true);
-- A tag row must hang on an asset of its own user (20261206110000_ourvidz_asset_tags_owner.sql): the
-- other user's takeover is refused before the conflict, as a tag on an asset that is not theirs.
select * from pg_temp.rls_matrix('asset_tags', 'asset_kind, asset_id, tag',
  public.sync_element_id('f3000000-0000-4000-8000-00000000000a', 'sea'), $$'image', 'f3000000-0000-4000-8000-00000000000a', 'sea'$$,
  public.sync_element_id('f3000000-0000-4000-8000-00000000000b', 'sea'), $$'image', 'f3000000-0000-4000-8000-00000000000b', 'sea'$$,
  takeover_errcode => '23503');
select * from pg_temp.rls_matrix('project_assets', 'project_id, asset_kind, asset_id',
  public.sync_element_id('f1000000-0000-4000-8000-00000000000a', 'f3000000-0000-4000-8000-00000000000a'),
  $$'f1000000-0000-4000-8000-00000000000a', 'image', 'f3000000-0000-4000-8000-00000000000a'$$,
  public.sync_element_id('f1000000-0000-4000-8000-00000000000b', 'f3000000-0000-4000-8000-00000000000b'),
  $$'f1000000-0000-4000-8000-00000000000b', 'image', 'f3000000-0000-4000-8000-00000000000b'$$);

-- -----------------------------------------------------------------------------------------------
-- user_roles: a user reads their own roles, an admin reads all; nobody signed in writes any, so
-- nobody makes themselves admin. Only the service key manages roles.
-- -----------------------------------------------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($$select * from public.user_roles$$, '42501', 'permission denied for table user_roles',
  'user_roles · select · anon: refused (no grant)');
select throws_ok($$insert into public.user_roles (user_id, role) values ('a0000000-0000-4000-8000-00000000000a', 'admin')$$,
  '42501', 'permission denied for table user_roles', 'user_roles · insert · anon: refused (no grant)');
select throws_ok($$update public.user_roles set role = 'admin'$$, '42501', 'permission denied for table user_roles',
  'user_roles · update · anon: refused (no grant)');
select throws_ok($$delete from public.user_roles$$, '42501', 'permission denied for table user_roles',
  'user_roles · delete · anon: refused (no grant)');

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select results_eq($$select user_id, role from public.user_roles order by user_id$$,
  $$values ('a0000000-0000-4000-8000-00000000000a'::uuid, 'user'::text)$$,
  'user_roles · select · owner: sees only their own role');
select throws_ok($$insert into public.user_roles (user_id, role) values ('a0000000-0000-4000-8000-00000000000a', 'admin')$$,
  '42501', 'permission denied for table user_roles', 'user_roles · insert · owner: cannot make themselves admin');
select throws_ok($$update public.user_roles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table user_roles', 'user_roles · update · owner: cannot promote themselves');
select throws_ok($$delete from public.user_roles where user_id = 'a0000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table user_roles', 'user_roles · delete · owner: refused (no grant)');
select ok(not public.is_admin(), 'user_roles · is_admin(): false for a plain user');

set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select results_eq($$select user_id, role from public.user_roles order by user_id$$,
  $$values ('b0000000-0000-4000-8000-00000000000b'::uuid, 'user'::text)$$,
  'user_roles · select · other user: sees only their own role, not the owner''s');
select throws_ok($$insert into public.user_roles (user_id, role) values ('a0000000-0000-4000-8000-00000000000a', 'moderator')$$,
  '42501', 'permission denied for table user_roles', 'user_roles · insert · other user: cannot give the owner a role');
select throws_ok($$delete from public.user_roles where user_id = 'a0000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table user_roles', 'user_roles · delete · other user: cannot remove the owner''s role');

set local request.jwt.claims to '{"sub": "ad000000-0000-4000-8000-0000000000ad", "role": "authenticated"}';
select ok(public.is_admin(), 'user_roles · is_admin(): true for the admin');
select results_eq(
  $$select user_id, role from public.user_roles
    where user_id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b', 'ad000000-0000-4000-8000-0000000000ad')
    order by user_id$$,
  $$values ('a0000000-0000-4000-8000-00000000000a'::uuid, 'user'::text),
           ('ad000000-0000-4000-8000-0000000000ad'::uuid, 'admin'::text),
           ('b0000000-0000-4000-8000-00000000000b'::uuid, 'user'::text)$$,
  'user_roles · select · admin: sees every user''s roles');
select throws_ok($$insert into public.user_roles (user_id, role) values ('b0000000-0000-4000-8000-00000000000b', 'admin')$$,
  '42501', 'permission denied for table user_roles', 'user_roles · insert · admin: refused (roles are managed with the service key)');
select throws_ok($$update public.user_roles set role = 'moderator' where user_id = 'b0000000-0000-4000-8000-00000000000b'$$,
  '42501', 'permission denied for table user_roles', 'user_roles · update · admin: refused');
select throws_ok($$delete from public.user_roles where user_id = 'b0000000-0000-4000-8000-00000000000b'$$,
  '42501', 'permission denied for table user_roles', 'user_roles · delete · admin: refused');

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select lives_ok($$insert into public.user_roles (user_id, role) values ('b0000000-0000-4000-8000-00000000000b', 'moderator')$$,
  'user_roles · insert · service_role: allowed');
select results_eq($$update public.user_roles set role = 'admin'
                    where user_id = 'b0000000-0000-4000-8000-00000000000b' and role = 'moderator' returning role$$,
  array['admin'], 'user_roles · update · service_role: allowed');
select results_eq($$delete from public.user_roles
                    where user_id = 'b0000000-0000-4000-8000-00000000000b' and role = 'admin' returning role$$,
  array['admin'], 'user_roles · delete · service_role: allowed');
select results_eq($$select count(*)::int from public.user_roles
                    where user_id in ('a0000000-0000-4000-8000-00000000000a', 'b0000000-0000-4000-8000-00000000000b', 'ad000000-0000-4000-8000-0000000000ad')$$,
  array[3], 'user_roles · select · service_role: sees every row');
reset role;

-- -----------------------------------------------------------------------------------------------
-- applied_ops: the op ids a push applied. A user reads and adds their own; nobody signed in
-- changes or removes one (a retried push must keep seeing it); admins get no special read here.
-- -----------------------------------------------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($$select * from public.applied_ops$$, '42501', 'permission denied for table applied_ops',
  'applied_ops · select · anon: refused (no grant)');
select throws_ok($$insert into public.applied_ops (op_id, user_id) values ('80000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a')$$,
  '42501', 'permission denied for table applied_ops', 'applied_ops · insert · anon: refused (no grant)');
select throws_ok($$update public.applied_ops set applied_at = now()$$, '42501', 'permission denied for table applied_ops',
  'applied_ops · update · anon: refused (no grant)');
select throws_ok($$delete from public.applied_ops$$, '42501', 'permission denied for table applied_ops',
  'applied_ops · delete · anon: refused (no grant)');

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select lives_ok($$insert into public.applied_ops (op_id) values ('80000000-0000-4000-8000-00000000000a')$$,
  'applied_ops · insert · owner: allowed');
select throws_ok($$insert into public.applied_ops (op_id, user_id) values ('80000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000b')$$,
  '42501', 'new row violates row-level security policy for table "applied_ops"',
  'applied_ops · insert · owner: an op under another user''s id (forged user_id) refused');

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select lives_ok($$insert into public.applied_ops (op_id, user_id) values ('80000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-00000000000b')$$,
  'applied_ops · insert · service_role: allowed');
select results_eq($$select op_id from public.applied_ops where op_id::text like '80000000-%' order by user_id$$,
  array['80000000-0000-4000-8000-00000000000a'::uuid, '80000000-0000-4000-8000-00000000000b'::uuid],
  'applied_ops · select · service_role: sees every row');

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select results_eq($$select op_id, user_id from public.applied_ops where op_id::text like '80000000-%'$$,
  $$values ('80000000-0000-4000-8000-00000000000a'::uuid, 'a0000000-0000-4000-8000-00000000000a'::uuid)$$,
  'applied_ops · select · owner: sees their op (user_id from the token), not another user''s');
select throws_ok($$update public.applied_ops set applied_at = now() where op_id = '80000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table applied_ops', 'applied_ops · update · owner: refused (no grant)');
select throws_ok($$delete from public.applied_ops where op_id = '80000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table applied_ops', 'applied_ops · delete · owner: refused (no grant)');

set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select results_eq($$select op_id from public.applied_ops where op_id::text like '80000000-%'$$,
  array['80000000-0000-4000-8000-00000000000b'::uuid], 'applied_ops · select · other user: does not see the owner''s op');
-- Op ids are per user (20261206100000_ourvidz_applied_ops_per_user.sql): taking the owner's op id
-- goes into the other user's own namespace and cannot make the owner's change a "duplicate".
select lives_ok($$insert into public.applied_ops (op_id) values ('80000000-0000-4000-8000-00000000000a')$$,
  'applied_ops · insert · other user: the owner''s op id lands in their own namespace, not the owner''s');
select throws_ok($$delete from public.applied_ops where op_id = '80000000-0000-4000-8000-00000000000a'$$,
  '42501', 'permission denied for table applied_ops', 'applied_ops · delete · other user: refused (no grant)');

set local request.jwt.claims to '{"sub": "ad000000-0000-4000-8000-0000000000ad", "role": "authenticated"}';
select is_empty($$select op_id from public.applied_ops where op_id::text like '80000000-%'$$,
  'applied_ops · select · admin: no read of other users'' ops');
select throws_ok($$insert into public.applied_ops (op_id, user_id) values ('80000000-0000-4000-8000-0000000000ad', 'a0000000-0000-4000-8000-00000000000a')$$,
  '42501', 'new row violates row-level security policy for table "applied_ops"',
  'applied_ops · insert · admin: an op under another user''s id refused');
select throws_ok($$update public.applied_ops set applied_at = now()$$, '42501', 'permission denied for table applied_ops',
  'applied_ops · update · admin: refused (no grant)');
select throws_ok($$delete from public.applied_ops$$, '42501', 'permission denied for table applied_ops',
  'applied_ops · delete · admin: refused (no grant)');

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select results_eq($$update public.applied_ops set applied_at = now() where op_id = '80000000-0000-4000-8000-00000000000b' returning op_id$$,
  array['80000000-0000-4000-8000-00000000000b'::uuid], 'applied_ops · update · service_role: allowed');
select results_eq($$delete from public.applied_ops where op_id = '80000000-0000-4000-8000-00000000000b' returning op_id$$,
  array['80000000-0000-4000-8000-00000000000b'::uuid], 'applied_ops · delete · service_role: allowed');
reset role;

-- -----------------------------------------------------------------------------------------------
-- Jobs: a finished job is final (only its soft delete may change), even for the service key; the
-- device that ran a job stays its only writer.
-- -----------------------------------------------------------------------------------------------

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select throws_ok($$update public.jobs set status = 'queued' where id = 'f4000000-0000-4000-8000-00000000000a'$$,
  '42501', 'job f4000000-0000-4000-8000-00000000000a is done and a finished job is never rewritten (only deleted_at may change)',
  'jobs · update · owner: a finished job''s status cannot be rewritten');
select throws_ok($$update public.jobs set original_prompt = 'rewritten', timings = '{"total_ms": 1}' where id = 'f4000000-0000-4000-8000-00000000000a'$$,
  '42501', 'job f4000000-0000-4000-8000-00000000000a is done and a finished job is never rewritten (only deleted_at may change)',
  'jobs · update · owner: a finished job''s record cannot be rewritten');
select results_eq($$update public.jobs set deleted_at = now() where id = 'f4000000-0000-4000-8000-00000000000a' returning id$$,
  array['f4000000-0000-4000-8000-00000000000a'::uuid], 'jobs · update · owner: a finished job can still be soft-deleted');
select results_eq($$update public.jobs set status = 'done', finished_at = now() where id = 'f5000000-0000-4000-8000-00000000000a' returning status$$,
  array['done'], 'jobs · update · owner: a running job can finish');
select throws_ok($$update public.jobs set status = 'failed' where id = 'f5000000-0000-4000-8000-00000000000a'$$,
  '42501', 'job f5000000-0000-4000-8000-00000000000a is done and a finished job is never rewritten (only deleted_at may change)',
  'jobs · update · owner: the job it just finished is final too');
select throws_ok($$update public.jobs set device_id = 'deskEvil' where id = 'f2000000-0000-4000-8000-00000000000a'$$,
  '42501', 'job f2000000-0000-4000-8000-00000000000a was run by device deskA: its device_id never changes',
  'jobs · update · owner: the device that ran a job cannot be replaced');
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select throws_ok($$update public.jobs set status = 'queued' where id = 'f4000000-0000-4000-8000-00000000000a'$$,
  '42501', 'job f4000000-0000-4000-8000-00000000000a is done and a finished job is never rewritten (only deleted_at may change)',
  'jobs · update · service_role: a finished job is final even past RLS');
reset role;

-- -----------------------------------------------------------------------------------------------
-- Foreign keys carry the owner: a row cannot hang on another user's project or job.
-- -----------------------------------------------------------------------------------------------

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select throws_ok($$insert into public.scenes (id, project_id, scene_number, description)
                   values ('31000000-0000-4000-8000-00000000000a', 'f1000000-0000-4000-8000-00000000000b', 1, 'x')$$,
  '23503', null, 'scenes · insert · owner: cannot hang a scene on another user''s project');
select throws_ok($$insert into public.images (id, bucket, file_size, sha256, job_id)
                   values ('51000000-0000-4000-8000-00000000000a', 'image_fast', 1, repeat('0', 64), 'f2000000-0000-4000-8000-00000000000b')$$,
  '23503', null, 'images · insert · owner: cannot hang an image on another user''s job');
reset role;

-- -----------------------------------------------------------------------------------------------
-- sync_push / sync_apply / sync_pull: SECURITY INVOKER, so the policies above hold through them.
-- -----------------------------------------------------------------------------------------------

select isnt_definer('public', 'sync_push', array['jsonb'], 'sync_push is SECURITY INVOKER');
select isnt_definer('public', 'sync_apply', array['text', 'uuid', 'text', 'jsonb'], 'sync_apply is SECURITY INVOKER');
select isnt_definer('public', 'sync_pull', array['bigint', 'integer'], 'sync_pull is SECURITY INVOKER');

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($$select public.sync_push('[]')$$, '42501', 'permission denied for function sync_push',
  'sync_push · anon: refused (no grant)');
select throws_ok($$select * from public.sync_pull(0, 10)$$, '42501', 'permission denied for function sync_pull',
  'sync_pull · anon: refused (no grant)');
select throws_ok($$select public.sync_apply('projects', 'a1000000-0000-4000-8000-00000000000a', '000000000000001:000000:x', '{"title": "x"}')$$,
  '42501', 'permission denied for function sync_apply', 'sync_apply · anon: refused (no grant)');

-- B's project as B made it through a push.
set local role authenticated;
set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select results_eq(
  $$select (public.sync_push('[{"op_id": "90000000-0000-4000-8000-0000000000b1", "table": "projects",
      "id": "a1000000-0000-4000-8000-00000000000b", "hlc": "000000000000001:000000:deskB", "set": {"title": "B pushed"}}]')) ->> 'applied'$$,
  array['1'], 'sync_push · other user: pushes their own project');

set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select results_eq(
  $$select r ->> 'status', r ->> 'reason' from jsonb_array_elements((public.sync_push('[
      {"op_id": "90000000-0000-4000-8000-0000000000a1", "table": "projects", "id": "a1000000-0000-4000-8000-00000000000a",
       "hlc": "000000000000002:000000:deskA", "set": {"title": "A pushed"}},
      {"op_id": "90000000-0000-4000-8000-0000000000a2", "table": "projects", "id": "a1000000-0000-4000-8000-00000000000b",
       "hlc": "000000000001000:000000:deskA", "set": {"title": "taken over"}},
      {"op_id": "90000000-0000-4000-8000-0000000000a3", "table": "projects", "id": "a1000000-0000-4000-8000-0000000000a3",
       "hlc": "000000000000002:000000:deskA", "set": {"title": "forged", "user_id": "b0000000-0000-4000-8000-00000000000b"}},
      {"op_id": "90000000-0000-4000-8000-0000000000a4", "table": "jobs", "id": "f2000000-0000-4000-8000-00000000000b",
       "hlc": "000000000001000:000000:deskA",
       "set": {"job_type": "image_fast", "format": "image", "original_prompt": "taken over", "status": "cancelled"}}
    ]')) -> 'results') r$$,
  $$values ('applied', null),
           ('rejected', 'id a1000000-0000-4000-8000-00000000000b in projects belongs to a row you cannot change'),
           ('rejected', 'projects has no synced column "user_id" (id, user_id, clocks, server_seq and updated_at are set by the server)'),
           ('rejected', 'id f2000000-0000-4000-8000-00000000000b in jobs belongs to a row you cannot change')$$,
  'sync_push · owner: own row applied; another user''s project and job ids and a forged user_id rejected');
select results_eq($$select user_id from public.projects where id = 'a1000000-0000-4000-8000-00000000000a'$$,
  array['a0000000-0000-4000-8000-00000000000a'::uuid], 'sync_push · owner: the pushed row is theirs (user_id from the token)');
select throws_ok($$select public.sync_apply('projects', 'a1000000-0000-4000-8000-00000000000b', '000000000001000:000000:deskA', '{"title": "taken over"}')$$,
  '42501', 'id a1000000-0000-4000-8000-00000000000b in projects belongs to a row you cannot change',
  'sync_apply · owner: another user''s row id refused when called directly too');
select is_empty($$select 1 from public.sync_pull(0, 1000) where data ->> 'user_id' <> 'a0000000-0000-4000-8000-00000000000a'$$,
  'sync_pull · owner: returns no other user''s row');
select results_eq(
  $$select entity_id from public.sync_pull(0, 1000) where entity = 'projects' order by entity_id$$,
  array['a1000000-0000-4000-8000-00000000000a'::uuid, 'f1000000-0000-4000-8000-00000000000a'::uuid],
  'sync_pull · owner: returns their own rows');

set local request.jwt.claims to '{"sub": "ad000000-0000-4000-8000-0000000000ad", "role": "authenticated"}';
select results_eq(
  $$select r ->> 'status', r ->> 'reason' from jsonb_array_elements((public.sync_push('[
      {"op_id": "90000000-0000-4000-8000-0000000000d1", "table": "projects", "id": "a1000000-0000-4000-8000-00000000000b",
       "hlc": "000000000001000:000000:admin", "set": {"title": "admin was here"}}]')) -> 'results') r$$,
  $$values ('rejected', 'id a1000000-0000-4000-8000-00000000000b in projects belongs to a row you cannot change')$$,
  'sync_push · admin: another user''s row id rejected (admins only read)');
select is_empty($$select 1 from public.sync_pull(0, 1000)$$, 'sync_pull · admin: returns only their own rows (none)');

set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select results_eq($$select title, user_id from public.projects where id = 'a1000000-0000-4000-8000-00000000000b'$$,
  $$values ('B pushed'::text, 'b0000000-0000-4000-8000-00000000000b'::uuid)$$,
  'sync_push · other user: their project is untouched by the owner''s and the admin''s pushes');
select results_eq($$select status from public.jobs where id = 'f2000000-0000-4000-8000-00000000000b'$$,
  array['queued'], 'sync_push · other user: their job is untouched');
select is_empty($$select 1 from public.sync_pull(0, 1000) where data ->> 'user_id' <> 'b0000000-0000-4000-8000-00000000000b'$$,
  'sync_pull · other user: returns none of the owner''s rows');
select results_eq(
  $$select r ->> 'status', r ->> 'reason' from jsonb_array_elements((public.sync_push('[
      {"op_id": "90000000-0000-4000-8000-0000000000b2", "table": "usage_logs", "id": "71000000-0000-4000-8000-00000000000b",
       "hlc": "000000000000001:000000:deskB", "set": {"action": "generate", "credits_consumed": 1}},
      {"op_id": "90000000-0000-4000-8000-0000000000b3", "table": "usage_logs", "id": "71000000-0000-4000-8000-00000000000b",
       "hlc": "000000000000002:000000:deskB", "set": {"credits_consumed": 0}}]')) -> 'results') r$$,
  $$values ('applied', null), ('rejected', 'permission denied for table usage_logs')$$,
  'sync_push · usage_logs stay append-only through a push');
reset role;

-- sync_file_in_use (whether a live image or video of the caller still points at a file, asked
-- before deleting it): SECURITY INVOKER too, so another user's rows never answer for it.
select isnt_definer('public', 'sync_file_in_use', array['text', 'text'], 'sync_file_in_use is SECURITY INVOKER');
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok($$select public.sync_file_in_use('image_fast', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png')$$,
  '42501', 'permission denied for function sync_file_in_use', 'sync_file_in_use · anon: refused (no grant)');
set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select ok(public.sync_file_in_use('image_fast', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png'),
  'sync_file_in_use · owner: their image''s file is in use');
select ok(not public.sync_file_in_use('image_high', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png'),
  'sync_file_in_use · owner: the same path in another bucket is not');
set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select ok(not public.sync_file_in_use('image_fast', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png'),
  'sync_file_in_use · other user: the owner''s rows do not answer (they cannot see them)');
reset role;

-- -----------------------------------------------------------------------------------------------
-- storage.objects: in the OurVidz buckets a user reads, uploads and deletes only under their own
-- '<user id>/' folder, an admin reads all, files are never overwritten; other buckets get nothing
-- from these policies.
-- -----------------------------------------------------------------------------------------------

-- On Supabase a trigger refuses SQL deletes from storage tables unless the transaction sets
-- storage.allow_delete_query, as the Storage API does for the deletes it makes on a user's behalf;
-- set here so the deletes below reach the policies, as an API delete does.
set local storage.allow_delete_query to 'true';

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select is_empty($$select name from storage.objects$$, 'storage · select · anon: sees no file');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'a0000000-0000-4000-8000-00000000000a/anon.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"', 'storage · insert · anon: refused');
select is_empty($$update storage.objects set metadata = '{}' returning name$$, 'storage · update · anon: touches no file');
select is_empty($$delete from storage.objects returning name$$, 'storage · delete · anon: deletes no file');

set local role authenticated;
set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select results_eq($$select name from storage.objects where bucket_id = 'image_fast' order by name$$,
  array['a0000000-0000-4000-8000-00000000000a/seeded-a.png'], 'storage · select · owner: sees their files, not another user''s');
select lives_ok($$insert into storage.objects (bucket_id, name, owner) values
                  ('image_fast', 'a0000000-0000-4000-8000-00000000000a/0123abcd.png', 'a0000000-0000-4000-8000-00000000000a')$$,
  'storage · insert · owner: uploads into their own folder');
select lives_ok($$insert into storage.objects (bucket_id, name) values
                  ('video_high', 'a0000000-0000-4000-8000-00000000000a/deep/er/clip.mp4')$$,
  'storage · insert · owner: uploads into a subfolder of their own folder');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'b0000000-0000-4000-8000-00000000000b/planted.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"', 'storage · insert · owner: another user''s folder refused');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'loose.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"', 'storage · insert · owner: a path outside any user folder refused');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('rls_test_other_app', 'a0000000-0000-4000-8000-00000000000a/x.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"',
  'storage · insert · owner: a bucket that is not OurVidz''s gets no upload from these policies');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png')
                   on conflict (bucket_id, name) do update set metadata = '{"overwritten": true}'$$,
  '42501', null, 'storage · insert · owner: an upsert over their own file refused (never overwritten)');
select is_empty($$update storage.objects set metadata = '{"overwritten": true}' where bucket_id = 'image_fast' returning name$$,
  'storage · update · owner: no file is updated (content-hash paths are never overwritten)');
select is_empty($$select name from storage.objects where bucket_id = 'rls_test_other_app'$$,
  'storage · select · owner: a bucket that is not OurVidz''s shows nothing, own folder or not');
select is_empty($$delete from storage.objects where bucket_id = 'rls_test_other_app' returning name$$,
  'storage · delete · owner: a bucket that is not OurVidz''s loses nothing');

set local request.jwt.claims to '{"sub": "b0000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select results_eq($$select name from storage.objects where bucket_id in ('image_fast', 'video_high') order by name$$,
  array['b0000000-0000-4000-8000-00000000000b/seeded-b.png'], 'storage · select · other user: sees none of the owner''s files');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'a0000000-0000-4000-8000-00000000000a/planted.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"', 'storage · insert · other user: the owner''s folder refused');
select is_empty($$update storage.objects set name = 'b0000000-0000-4000-8000-00000000000b/stolen.png'
                  where name = 'a0000000-0000-4000-8000-00000000000a/seeded-a.png' returning name$$,
  'storage · update · other user: cannot move the owner''s file');
select is_empty($$delete from storage.objects where name like 'a0000000-0000-4000-8000-00000000000a/%' returning name$$,
  'storage · delete · other user: deletes none of the owner''s files');

set local request.jwt.claims to '{"sub": "ad000000-0000-4000-8000-0000000000ad", "role": "authenticated"}';
select results_eq($$select name from storage.objects where bucket_id = 'image_fast' order by name$$,
  array['a0000000-0000-4000-8000-00000000000a/0123abcd.png', 'a0000000-0000-4000-8000-00000000000a/seeded-a.png',
        'b0000000-0000-4000-8000-00000000000b/seeded-b.png'],
  'storage · select · admin: sees every user''s files in the OurVidz buckets');
select is_empty($$select name from storage.objects where bucket_id = 'rls_test_other_app'$$,
  'storage · select · admin: not in a bucket that is not OurVidz''s');
select throws_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'a0000000-0000-4000-8000-00000000000a/admin.png')$$,
  '42501', 'new row violates row-level security policy for table "objects"', 'storage · insert · admin: another user''s folder refused');
select is_empty($$update storage.objects set metadata = '{}' where bucket_id = 'image_fast' returning name$$,
  'storage · update · admin: touches no file');
select is_empty($$delete from storage.objects where name like 'a0000000-0000-4000-8000-00000000000a/%' returning name$$,
  'storage · delete · admin: deletes none of another user''s files');

set local request.jwt.claims to '{"sub": "a0000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select results_eq($$delete from storage.objects where name = 'a0000000-0000-4000-8000-00000000000a/0123abcd.png' returning name$$,
  array['a0000000-0000-4000-8000-00000000000a/0123abcd.png'], 'storage · delete · owner: deletes their own file');

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select results_eq($$select count(*)::int from storage.objects where bucket_id in ('image_fast', 'video_high', 'rls_test_other_app')$$,
  array[4], 'storage · select · service_role: sees every file');
select lives_ok($$insert into storage.objects (bucket_id, name) values ('image_fast', 'b0000000-0000-4000-8000-00000000000b/service.png')$$,
  'storage · insert · service_role: allowed anywhere');
select results_eq($$update storage.objects set metadata = '{"size": 1}' where name = 'b0000000-0000-4000-8000-00000000000b/service.png' returning name$$,
  array['b0000000-0000-4000-8000-00000000000b/service.png'], 'storage · update · service_role: allowed');
select results_eq($$delete from storage.objects where name = 'b0000000-0000-4000-8000-00000000000b/service.png' returning name$$,
  array['b0000000-0000-4000-8000-00000000000b/service.png'], 'storage · delete · service_role: allowed');
reset role;

-- What the refused requests left behind: nothing.
select results_eq($$select metadata is null from storage.objects where name = 'a0000000-0000-4000-8000-00000000000a/seeded-a.png'$$,
  array[true], 'storage: the owner''s file is unchanged after every refused write');

select * from finish();
rollback;
