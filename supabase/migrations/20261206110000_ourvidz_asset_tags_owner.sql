-- A tag row's id is derived from its asset and tag (sync_element_id), so anyone who learned an
-- asset's id could compute the id of its tag rows. Nothing tied a tag row to an asset of the same
-- user: another user could push that id first, as their own row, and the owner's tag would then be
-- refused as "a row you cannot change" (found by tests/integration/cloud-soak.test.ts). A tag row
-- now needs an image or video of its own user with that id. The check runs as the caller
-- (SECURITY INVOKER, RLS on), so another user's asset is as good as absent. Safe to run again.
create or replace function public.asset_tags_own_asset() returns trigger
language plpgsql security invoker
set search_path = ''
as $$
begin
  -- A row under someone else's id is for the row-level security policies to refuse, with their message.
  if (select auth.uid()) is not null and new.user_id is distinct from (select auth.uid()) then
    return new;
  end if;
  if new.asset_kind = 'image' and exists (select 1 from public.images i where i.id = new.asset_id and i.user_id = new.user_id) then
    return new;
  end if;
  if new.asset_kind = 'video' and exists (select 1 from public.videos v where v.id = new.asset_id and v.user_id = new.user_id) then
    return new;
  end if;
  raise exception 'the tag points at % %, which is not one of your assets: push the asset before its tags', new.asset_kind, new.asset_id
    using errcode = '23503';
end
$$;

drop trigger if exists asset_tags_own_asset on public.asset_tags;
create trigger asset_tags_own_asset before insert or update of asset_id, asset_kind, user_id on public.asset_tags
  for each row execute function public.asset_tags_own_asset();
