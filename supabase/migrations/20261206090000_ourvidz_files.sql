-- OurVidz Studio cloud mirror, files: the desktop uploads each asset's original and a PNG thumbnail
-- to the asset's bucket at content-hash paths, '<user id>/<sha256>.<png|mp4>' and
-- '<user id>/thumbs/<sha256>.png' (docs/cloud.md). Runs after 20261206060000_ourvidz_sync.sql; safe
-- to run again.

-- A video's thumbnail is a PNG kept beside it, so the video buckets take PNG as well as MP4 (still
-- PNG or MP4 only; the size limits stay the seed's).
update storage.buckets
   set allowed_mime_types = array['video/mp4', 'image/png']
 where id in ('video_fast', 'video_high', 'video7b_fast_enhanced', 'video7b_high_enhanced');

-- Whether a live image or video row of the caller still points at this object (two assets with the
-- same bytes share one object: deleting one of them for good must not delete the other's file).
-- SECURITY INVOKER: it sees only what the caller's policies let them see.
create or replace function public.sync_file_in_use(bucket text, path text) returns boolean
language sql stable security invoker
set search_path = ''
as $$
  select exists (
    select 1 from public.images i
     where i.bucket = sync_file_in_use.bucket and i.deleted_at is null
       and (i.storage_path = sync_file_in_use.path or i.thumbnail_path = sync_file_in_use.path)
    union all
    select 1 from public.videos v
     where v.bucket = sync_file_in_use.bucket and v.deleted_at is null
       and (v.storage_path = sync_file_in_use.path or v.thumbnail_path = sync_file_in_use.path))
$$;
revoke all on function public.sync_file_in_use(text, text) from public, anon;
grant execute on function public.sync_file_in_use(text, text) to authenticated, service_role;
