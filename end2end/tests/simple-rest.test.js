// Refine's own REST data provider, @refinedev/simple-rest, unchanged, against Herald's API:
// every call of a Refine DataProvider, with the pagination, sorters and filters Refine
// sends, and the errors it expects (an HttpError with statusCode and message). No browser.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import dataProvider, { axiosInstance } from '@refinedev/simple-rest';
import { BASE_URL } from './support.js';

const API = `${BASE_URL}/api`;
let data;

before(async () => {
  const res = await fetch(`${API}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'demo' }),
  });
  assert.equal(res.status, 200);
  const { token } = await res.json();
  axiosInstance.defaults.headers.common.Authorization = `Bearer ${token}`;
  data = dataProvider(API, axiosInstance);
});

/** Creates a post through simple-rest and returns it. */
async function create(variables) {
  const { data: post } = await data.create({ resource: 'posts', variables });
  return post;
}

test('simple-rest: create, getOne, update, deleteOne', async () => {
  const post = await create({ title: 'Refine was here', status: 'draft', category: 'refine' });
  assert.equal(typeof post.id, 'number');
  assert.equal(post.version, 1);
  assert.equal(post.title, 'Refine was here');

  const { data: one } = await data.getOne({ resource: 'posts', id: post.id });
  assert.deepEqual(one, post);

  const { data: updated } = await data.update({
    resource: 'posts',
    id: post.id,
    variables: { status: 'published' },
  });
  assert.equal(updated.status, 'published');
  assert.equal(updated.version, 2);

  const { data: deleted } = await data.deleteOne({ resource: 'posts', id: post.id });
  assert.equal(deleted.id, post.id);
  await assert.rejects(data.getOne({ resource: 'posts', id: post.id }), (e) => {
    assert.equal(e.statusCode, 404);
    assert.match(e.message, /not found/);
    return true;
  });
});

test('simple-rest: getList pages, sorts by several columns and filters', async () => {
  const tag = `refine-${Date.now()}`;
  const made = [];
  for (const [i, status] of ['draft', 'published', 'draft', 'rejected', 'draft'].entries()) {
    made.push(await create({ title: `${tag} ${i}`, status, category: tag }));
  }
  const mine = [{ field: 'category', operator: 'eq', value: tag }];

  const page1 = await data.getList({
    resource: 'posts',
    pagination: { currentPage: 1, pageSize: 2 },
    sorters: [
      { field: 'status', order: 'asc' },
      { field: 'id', order: 'desc' },
    ],
    filters: mine,
  });
  assert.equal(page1.total, 5);
  const drafts = made.filter((p) => p.status === 'draft').map((p) => p.id).sort((a, b) => b - a);
  assert.deepEqual(page1.data.map((p) => p.id), drafts.slice(0, 2));
  const page3 = await data.getList({
    resource: 'posts',
    pagination: { currentPage: 3, pageSize: 2 },
    sorters: [{ field: 'id', order: 'asc' }],
    filters: mine,
  });
  assert.deepEqual(page3.data.map((p) => p.id), [made[4].id]);

  const filtered = async (filters) =>
    (await data.getList({ resource: 'posts', filters: [...mine, ...filters], pagination: { mode: 'off' } }))
      .data.map((p) => p.id)
      .sort((a, b) => a - b);
  const ids = (keep) => made.filter(keep).map((p) => p.id).sort((a, b) => a - b);
  assert.deepEqual(await filtered([{ field: 'status', operator: 'ne', value: 'draft' }]), ids((p) => p.status !== 'draft'));
  assert.deepEqual(
    await filtered([{ field: 'status', operator: 'in', value: ['published', 'rejected'] }]),
    ids((p) => p.status !== 'draft'),
  );
  assert.deepEqual(await filtered([{ field: 'id', operator: 'gte', value: made[3].id }]), ids((p) => p.id >= made[3].id));
  assert.deepEqual(await filtered([{ field: 'id', operator: 'lte', value: made[1].id }]), ids((p) => p.id <= made[1].id));
  assert.deepEqual(await filtered([{ field: 'title', operator: 'contains', value: `${tag.toUpperCase()} 2` }]), ids((p) => p === made[2]));
  assert.deepEqual(await filtered([{ field: 'q', value: `${tag} 4` }]), ids((p) => p === made[4]));

  const { data: many } = await data.getMany({ resource: 'posts', ids: [made[0].id, made[2].id] });
  assert.deepEqual(many.map((p) => p.id).sort((a, b) => a - b), [made[0].id, made[2].id]);

  for (const p of made) {
    await data.deleteOne({ resource: 'posts', id: p.id });
  }
});

test('simple-rest: errors arrive as Refine HttpErrors', async () => {
  await assert.rejects(create({ title: '' }), (e) => {
    assert.equal(e.statusCode, 422);
    assert.equal(e.response.data.errors.title[0], 'must not be empty');
    return true;
  });
  await assert.rejects(
    data.getList({ resource: 'posts', filters: [{ field: 'colour', operator: 'eq', value: 'red' }] }),
    (e) => {
      assert.equal(e.statusCode, 400);
      assert.match(e.message, /unknown field 'colour'/);
      return true;
    },
  );
  const post = await create({ title: 'versioned' });
  await data.update({ resource: 'posts', id: post.id, variables: { title: 'v2' } });
  await assert.rejects(
    data.update({ resource: 'posts', id: post.id, variables: { title: 'stale', version: 1 } }),
    (e) => {
      assert.equal(e.statusCode, 409);
      assert.equal(e.response.data.current.title, 'v2');
      return true;
    },
  );
  await data.deleteOne({ resource: 'posts', id: post.id });
});
