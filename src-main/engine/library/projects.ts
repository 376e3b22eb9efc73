/**
 * Projects with their scenes and characters: the local twins of the OurVidz tables, so each row
 * maps to one cloud row. Every write also writes its outbox row.
 */
import { randomUUID } from 'node:crypto';
import type { SQLInputValue } from 'node:sqlite';
import type { Database } from '../db/database.ts';
import { StudioError } from '../errors.ts';
import type { CharacterView, ProjectDetail, ProjectView, SceneView } from '../../../src-preload/contract/library.ts';
import { outbox } from './store.ts';

interface ProjectRow {
  id: string;
  title: string;
  description: string | null;
  original_prompt: string | null;
  enhanced_prompt: string | null;
  media_type: 'image' | 'video' | null;
  duration: number | null;
  scene_count: number | null;
  workflow_step: string | null;
  character_id: string | null;
  preview_asset_id: string | null;
  created_at: number;
  updated_at: number;
  asset_count: number;
  scenes: number;
}

interface SceneRow {
  id: string;
  project_id: string;
  scene_number: number;
  description: string;
  enhanced_prompt: string | null;
  asset_id: string | null;
  created_at: number;
  updated_at: number;
}

interface CharacterRow {
  id: string;
  name: string;
  description: string | null;
  traits: string | null;
  appearance_tags: string;
  image_url: string | null;
  persona: string | null;
  created_at: number;
  updated_at: number;
}

const PROJECT_SELECT = `SELECT p.*,
  (SELECT count(*) FROM assets a WHERE a.project_id = p.id AND a.trashed_at IS NULL) AS asset_count,
  (SELECT count(*) FROM scenes s WHERE s.project_id = p.id) AS scenes
  FROM projects p`;

function projectView(r: ProjectRow): ProjectView {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    originalPrompt: r.original_prompt,
    enhancedPrompt: r.enhanced_prompt,
    mediaType: r.media_type,
    duration: r.duration,
    sceneCount: r.scenes,
    workflowStep: r.workflow_step,
    characterId: r.character_id,
    previewAssetId: r.preview_asset_id,
    assetCount: r.asset_count,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function sceneView(r: SceneRow): SceneView {
  return {
    id: r.id,
    projectId: r.project_id,
    sceneNumber: r.scene_number,
    description: r.description,
    enhancedPrompt: r.enhanced_prompt,
    assetId: r.asset_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function characterView(r: CharacterRow): CharacterView {
  let tags: string[] = [];
  try {
    const parsed: unknown = JSON.parse(r.appearance_tags);
    if (Array.isArray(parsed)) tags = parsed.filter((x): x is string => typeof x === 'string');
  } catch {
    // A hand-edited row: show no tags rather than fail the list.
  }
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    traits: r.traits,
    appearanceTags: tags,
    imageUrl: r.image_url,
    persona: r.persona,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ProjectInput {
  title?: string;
  description?: string | null;
  originalPrompt?: string | null;
  enhancedPrompt?: string | null;
  mediaType?: 'image' | 'video' | null;
  duration?: number | null;
  workflowStep?: string | null;
  characterId?: string | null;
  previewAssetId?: string | null;
}

const PROJECT_COLUMNS: Readonly<Record<keyof ProjectInput, string>> = {
  title: 'title',
  description: 'description',
  originalPrompt: 'original_prompt',
  enhancedPrompt: 'enhanced_prompt',
  mediaType: 'media_type',
  duration: 'duration',
  workflowStep: 'workflow_step',
  characterId: 'character_id',
  previewAssetId: 'preview_asset_id',
};

function checkCharacter(db: Database, id: string | null | undefined): void {
  if (id && !db.get('SELECT 1 AS x FROM characters WHERE id = ?', id)) {
    throw new StudioError('not_found', `no character with id ${id}; create it first or pick another`, { field: 'characterId' });
  }
}

export function listProjects(db: Database): ProjectView[] {
  return db.all<ProjectRow>(`${PROJECT_SELECT} ORDER BY p.updated_at DESC, p.id`).map(projectView);
}

export function getProject(db: Database, id: string): ProjectDetail | null {
  const row = db.get<ProjectRow>(`${PROJECT_SELECT} WHERE p.id = ?`, id);
  if (!row) return null;
  const scenes = db.all<SceneRow>('SELECT * FROM scenes WHERE project_id = ? ORDER BY scene_number', id).map(sceneView);
  const character = row.character_id ? db.get<CharacterRow>('SELECT * FROM characters WHERE id = ?', row.character_id) : undefined;
  return { ...projectView(row), scenes, character: character ? characterView(character) : null };
}

export function createProject(db: Database, input: ProjectInput & { title: string }): ProjectView {
  return db.transaction(() => {
    checkCharacter(db, input.characterId);
    const id = randomUUID();
    const t = Date.now();
    db.run(
      `INSERT INTO projects (id, title, description, original_prompt, enhanced_prompt, media_type, duration, scene_count,
         workflow_step, character_id, preview_asset_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
      id,
      input.title,
      input.description ?? null,
      input.originalPrompt ?? null,
      input.enhancedPrompt ?? null,
      input.mediaType ?? null,
      input.duration ?? null,
      input.workflowStep ?? null,
      input.characterId ?? null,
      input.previewAssetId ?? null,
      t,
      t,
    );
    outbox(db, 'project', id, 'upsert', t);
    return projectView(db.get<ProjectRow>(`${PROJECT_SELECT} WHERE p.id = ?`, id)!);
  });
}

export function updateProject(db: Database, id: string, input: ProjectInput): ProjectView {
  return db.transaction(() => {
    if (!db.get('SELECT 1 AS x FROM projects WHERE id = ?', id)) throw new StudioError('not_found', `no project with id ${id}`);
    checkCharacter(db, input.characterId);
    const sets: string[] = [];
    const args: SQLInputValue[] = [];
    for (const [key, column] of Object.entries(PROJECT_COLUMNS) as [keyof ProjectInput, string][]) {
      if (input[key] === undefined) continue;
      sets.push(`${column} = ?`);
      args.push(input[key]);
    }
    const t = Date.now();
    db.run(`UPDATE projects SET ${[...sets, 'updated_at = ?'].join(', ')} WHERE id = ?`, ...args, t, id);
    outbox(db, 'project', id, 'upsert', t);
    return projectView(db.get<ProjectRow>(`${PROJECT_SELECT} WHERE p.id = ?`, id)!);
  });
}

/** Deletes a project and its scenes; its assets stay in the library, in no project. */
export function deleteProject(db: Database, id: string): boolean {
  return db.transaction(() => {
    const t = Date.now();
    const scenes = db.all<{ id: string }>('SELECT id FROM scenes WHERE project_id = ?', id);
    const assets = db.all<{ id: string }>('SELECT id FROM assets WHERE project_id = ?', id);
    const r = db.run('DELETE FROM projects WHERE id = ?', id);
    if (r.changes === 0) return false;
    // The foreign keys cascade scenes and clear assets.project_id; record both for the mirror.
    db.run('UPDATE assets SET updated_at = ? WHERE project_id IS NULL AND id IN (SELECT value FROM json_each(?))', t, JSON.stringify(assets.map((a) => a.id)));
    for (const s of scenes) outbox(db, 'scene', s.id, 'delete', t);
    for (const a of assets) outbox(db, 'asset', a.id, 'upsert', t);
    outbox(db, 'project', id, 'delete', t);
    return true;
  });
}

function touchSceneCount(db: Database, projectId: string, t: number): void {
  db.run('UPDATE projects SET scene_count = (SELECT count(*) FROM scenes WHERE project_id = ?), updated_at = ? WHERE id = ?', projectId, t, projectId);
  outbox(db, 'project', projectId, 'upsert', t);
}

export interface SceneInput {
  description?: string;
  sceneNumber?: number;
  enhancedPrompt?: string | null;
  assetId?: string | null;
}

export function createScene(db: Database, projectId: string, input: SceneInput & { description: string }): SceneView {
  return db.transaction(() => {
    if (!db.get('SELECT 1 AS x FROM projects WHERE id = ?', projectId)) {
      throw new StudioError('not_found', `no project with id ${projectId}`, { field: 'projectId' });
    }
    const number =
      input.sceneNumber ?? (db.get<{ n: number | null }>('SELECT max(scene_number) AS n FROM scenes WHERE project_id = ?', projectId)?.n ?? 0) + 1;
    if (db.get('SELECT 1 AS x FROM scenes WHERE project_id = ? AND scene_number = ?', projectId, number)) {
      throw new StudioError('conflict', `scene ${number} already exists in this project; pick another number`, { field: 'sceneNumber' });
    }
    const id = randomUUID();
    const t = Date.now();
    db.run(
      `INSERT INTO scenes (id, project_id, scene_number, description, enhanced_prompt, asset_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      projectId,
      number,
      input.description,
      input.enhancedPrompt ?? null,
      input.assetId ?? null,
      t,
      t,
    );
    outbox(db, 'scene', id, 'upsert', t);
    touchSceneCount(db, projectId, t);
    return sceneView(db.get<SceneRow>('SELECT * FROM scenes WHERE id = ?', id)!);
  });
}

export function updateScene(db: Database, id: string, input: SceneInput): SceneView {
  return db.transaction(() => {
    const row = db.get<SceneRow>('SELECT * FROM scenes WHERE id = ?', id);
    if (!row) throw new StudioError('not_found', `no scene with id ${id}`);
    if (
      input.sceneNumber !== undefined &&
      input.sceneNumber !== row.scene_number &&
      db.get('SELECT 1 AS x FROM scenes WHERE project_id = ? AND scene_number = ?', row.project_id, input.sceneNumber)
    ) {
      throw new StudioError('conflict', `scene ${input.sceneNumber} already exists in this project; pick another number`, {
        field: 'sceneNumber',
      });
    }
    const t = Date.now();
    db.run(
      'UPDATE scenes SET description = ?, scene_number = ?, enhanced_prompt = ?, asset_id = ?, updated_at = ? WHERE id = ?',
      input.description ?? row.description,
      input.sceneNumber ?? row.scene_number,
      input.enhancedPrompt === undefined ? row.enhanced_prompt : input.enhancedPrompt,
      input.assetId === undefined ? row.asset_id : input.assetId,
      t,
      id,
    );
    outbox(db, 'scene', id, 'upsert', t);
    return sceneView(db.get<SceneRow>('SELECT * FROM scenes WHERE id = ?', id)!);
  });
}

export function deleteScene(db: Database, id: string): boolean {
  return db.transaction(() => {
    const row = db.get<SceneRow>('SELECT * FROM scenes WHERE id = ?', id);
    if (!row) return false;
    const t = Date.now();
    db.run('DELETE FROM scenes WHERE id = ?', id);
    outbox(db, 'scene', id, 'delete', t);
    touchSceneCount(db, row.project_id, t);
    return true;
  });
}

export interface CharacterInput {
  name?: string;
  description?: string | null;
  traits?: string | null;
  appearanceTags?: readonly string[];
  imageUrl?: string | null;
  persona?: string | null;
}

export function listCharacters(db: Database): CharacterView[] {
  return db.all<CharacterRow>('SELECT * FROM characters ORDER BY name COLLATE NOCASE, id').map(characterView);
}

export function createCharacter(db: Database, input: CharacterInput & { name: string }): CharacterView {
  return db.transaction(() => {
    const id = randomUUID();
    const t = Date.now();
    db.run(
      `INSERT INTO characters (id, name, description, traits, appearance_tags, image_url, persona, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id,
      input.name,
      input.description ?? null,
      input.traits ?? null,
      JSON.stringify(input.appearanceTags ?? []),
      input.imageUrl ?? null,
      input.persona ?? null,
      t,
      t,
    );
    outbox(db, 'character', id, 'upsert', t);
    return characterView(db.get<CharacterRow>('SELECT * FROM characters WHERE id = ?', id)!);
  });
}

export function updateCharacter(db: Database, id: string, input: CharacterInput): CharacterView {
  return db.transaction(() => {
    const row = db.get<CharacterRow>('SELECT * FROM characters WHERE id = ?', id);
    if (!row) throw new StudioError('not_found', `no character with id ${id}`);
    const t = Date.now();
    db.run(
      `UPDATE characters SET name = ?, description = ?, traits = ?, appearance_tags = ?, image_url = ?, persona = ?, updated_at = ?
       WHERE id = ?`,
      input.name ?? row.name,
      input.description === undefined ? row.description : input.description,
      input.traits === undefined ? row.traits : input.traits,
      input.appearanceTags === undefined ? row.appearance_tags : JSON.stringify(input.appearanceTags),
      input.imageUrl === undefined ? row.image_url : input.imageUrl,
      input.persona === undefined ? row.persona : input.persona,
      t,
      id,
    );
    outbox(db, 'character', id, 'upsert', t);
    return characterView(db.get<CharacterRow>('SELECT * FROM characters WHERE id = ?', id)!);
  });
}

/** Deletes a character; projects that used it keep going without one. */
export function deleteCharacter(db: Database, id: string): boolean {
  return db.transaction(() => {
    const t = Date.now();
    const projects = db.all<{ id: string }>('SELECT id FROM projects WHERE character_id = ?', id);
    const r = db.run('DELETE FROM characters WHERE id = ?', id);
    if (r.changes === 0) return false;
    for (const p of projects) outbox(db, 'project', p.id, 'upsert', t);
    outbox(db, 'character', id, 'delete', t);
    return true;
  });
}
