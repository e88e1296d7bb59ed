// The reference peer for Herald's benchmarks: the seed's "Node.js + Socket.io" architecture,
// written the way a careful Node developer would — express for REST, better-sqlite3 with
// prepared statements (cached per query shape), socket.io rooms for the live broadcast, no
// per-request logging. It speaks the same REST paths and token login as Herald (/api/...),
// so one load generator drives both; after every committed write it broadcasts
// created/updated/deleted to the `resources/posts` room, the event carrying what Herald's
// carries (channel, type, payload.ids + payload.data, date, meta.user).
//
// Usage: PORT=4000 PEER_DB=/tmp/peer.db PEER_DATA=db.json node server.js
// PEER_DATA is a json-server db.json (posts, comments, users) exported from Herald's seed;
// the demo users get the password "demo".

'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const express = require('express');
const Database = require('better-sqlite3');
const { Server } = require('socket.io');

const PORT = Number(process.env.PORT || 4000);
const HOST = process.env.HOST || '127.0.0.1';
const DB_PATH = process.env.PEER_DB || ':memory:';
const DATA = process.env.PEER_DATA;

const POST_FIELDS = ['id', 'title', 'content', 'status', 'category', 'author_id', 'created_at', 'updated_at', 'version'];
const WRITABLE = ['title', 'content', 'status', 'category'];
const STATUSES = new Set(['draft', 'published', 'rejected']);
const CHANNEL = 'resources/posts';

// ---------------------------------------------------------------- database

function openDb() {
  const db = new Database(DB_PATH);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));
    CREATE TABLE IF NOT EXISTS posts (
      id INTEGER PRIMARY KEY, title TEXT NOT NULL, content TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL DEFAULT 'draft', category TEXT NOT NULL DEFAULT '',
      author_id INTEGER NOT NULL REFERENCES users(id),
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);
    CREATE TABLE IF NOT EXISTS comments (
      id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
      author_id INTEGER NOT NULL REFERENCES users(id), body TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1);
  `);
  return db;
}

function hashPassword(password, salt = crypto.randomBytes(16).toString('hex')) {
  return `${salt}:${crypto.scryptSync(password, salt, 32).toString('hex')}`;
}

function passwordMatches(stored, password) {
  const [salt, hash] = stored.split(':');
  const given = crypto.scryptSync(password, salt, 32);
  return crypto.timingSafeEqual(Buffer.from(hash, 'hex'), given);
}

/** Loads a json-server db.json into an empty database. */
function seed(db, file) {
  if (db.prepare('SELECT COUNT(*) AS n FROM users').get().n > 0 || !file) return;
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  const demo = hashPassword('demo');
  const user = db.prepare('INSERT INTO users (id, name, password_hash) VALUES (?, ?, ?)');
  const post = db.prepare(`INSERT INTO posts (${POST_FIELDS.join(', ')}) VALUES (${POST_FIELDS.map(() => '?').join(', ')})`);
  const comment = db.prepare(
    'INSERT INTO comments (id, post_id, author_id, body, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const u of data.users || []) user.run(u.id, u.name, demo);
    for (const p of data.posts || []) post.run(...POST_FIELDS.map((f) => p[f]));
    for (const c of data.comments || []) comment.run(c.id, c.post_id, c.author_id, c.body, c.created_at, c.updated_at, c.version);
  })();
}

// ---------------------------------------------------------------- queries

const db = openDb();
seed(db, DATA);

const q = {
  userByName: db.prepare('SELECT id, name, password_hash FROM users WHERE name = ?'),
  session: db.prepare('SELECT users.id AS id, users.name AS name FROM sessions JOIN users ON users.id = sessions.user_id WHERE token = ?'),
  newSession: db.prepare('INSERT INTO sessions (token, user_id) VALUES (?, ?)'),
  count: db.prepare('SELECT COUNT(*) AS n FROM posts'),
  one: db.prepare(`SELECT ${POST_FIELDS.join(', ')} FROM posts WHERE id = ?`),
  insert: db.prepare(`INSERT INTO posts (title, content, status, category, author_id, created_at, updated_at, version)
                      VALUES (@title, @content, @status, @category, @author_id, @now, @now, 1)
                      RETURNING ${POST_FIELDS.join(', ')}`),
  remove: db.prepare(`DELETE FROM posts WHERE id = ? RETURNING ${POST_FIELDS.join(', ')}`),
};

/** A prepared statement per query shape (sort column and order, updated field set). */
const shapes = new Map();
function prepared(key, sql) {
  let stmt = shapes.get(key);
  if (!stmt) {
    stmt = db.prepare(sql());
    shapes.set(key, stmt);
  }
  return stmt;
}

function listStatement(sort, order) {
  return prepared(`list:${sort}:${order}`, () =>
    `SELECT ${POST_FIELDS.join(', ')} FROM posts ORDER BY ${sort} ${order} LIMIT ? OFFSET ?`);
}

function updateStatement(fields) {
  return prepared(`update:${fields.join(',')}`, () =>
    `UPDATE posts SET ${fields.map((f) => `${f} = @${f}`).join(', ')}, updated_at = @now, version = version + 1
     WHERE id = @id RETURNING ${POST_FIELDS.join(', ')}`);
}

// ---------------------------------------------------------------- REST

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '1mb' }));

function fail(res, status, message, errors) {
  res.status(status).json(errors ? { message, statusCode: status, errors } : { message, statusCode: status });
}

app.post('/api/auth/token', (req, res) => {
  const { username, password } = req.body || {};
  const user = typeof username === 'string' ? q.userByName.get(username) : undefined;
  if (!user || typeof password !== 'string' || !passwordMatches(user.password_hash, password)) {
    return fail(res, 401, 'wrong user name or password');
  }
  const token = crypto.randomBytes(32).toString('hex');
  q.newSession.run(token, user.id);
  res.json({ token });
});

function userOf(authorization) {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return undefined;
  return q.session.get(authorization.slice(7).trim());
}

app.use('/api', (req, res, next) => {
  const user = userOf(req.headers.authorization);
  if (!user) return fail(res, 401, 'not signed in');
  req.user = user;
  next();
});

function validate(body, creating) {
  const errors = {};
  if (creating || body.title !== undefined) {
    if (typeof body.title !== 'string' || body.title.length < 1 || body.title.length > 200) errors.title = ['must be 1 to 200 characters'];
  }
  if (body.status !== undefined && !STATUSES.has(body.status)) errors.status = ['must be draft, published or rejected'];
  for (const f of ['content', 'category']) {
    if (body[f] !== undefined && typeof body[f] !== 'string') errors[f] = ['must be a string'];
  }
  return Object.keys(errors).length ? errors : null;
}

function broadcast(type, id, user, data) {
  const payload = data ? { ids: [String(id)], data } : { ids: [String(id)] };
  io.to(CHANNEL).emit(type, {
    channel: CHANNEL,
    type,
    payload,
    date: new Date().toISOString(),
    meta: { user: { id: String(user.id), name: user.name }, origin: null },
  });
}

app.get('/api/posts', (req, res) => {
  const start = Number(req.query._start ?? 0);
  const end = Number(req.query._end ?? start + 10);
  const sort = req.query._sort ?? 'id';
  const order = String(req.query._order ?? 'asc').toUpperCase();
  if (!POST_FIELDS.includes(sort) || !['ASC', 'DESC'].includes(order) || !(end >= start && start >= 0)) {
    return fail(res, 400, 'bad list query');
  }
  const rows = listStatement(sort, order).all(end - start, start);
  res.set('x-total-count', String(q.count.get().n));
  res.set('Access-Control-Expose-Headers', 'x-total-count');
  res.json(rows);
});

app.get('/api/posts/:id', (req, res) => {
  const post = q.one.get(Number(req.params.id));
  if (!post) return fail(res, 404, `post ${req.params.id} not found`);
  res.set('ETag', `"${post.version}"`);
  res.json(post);
});

app.post('/api/posts', (req, res) => {
  const body = req.body || {};
  const errors = validate(body, true);
  if (errors) return fail(res, 422, 'validation failed', errors);
  const post = q.insert.get({
    title: body.title,
    content: body.content ?? '',
    status: body.status ?? 'draft',
    category: body.category ?? '',
    author_id: req.user.id,
    now: new Date().toISOString(),
  });
  res.status(201).json(post);
  broadcast('created', post.id, req.user, post);
});

function update(req, res) {
  const body = req.body || {};
  const errors = validate(body, false);
  if (errors) return fail(res, 422, 'validation failed', errors);
  const fields = WRITABLE.filter((f) => body[f] !== undefined);
  const params = { id: Number(req.params.id), now: new Date().toISOString() };
  for (const f of fields) params[f] = body[f];
  const post = updateStatement(fields).get(params);
  if (!post) return fail(res, 404, `post ${req.params.id} not found`);
  res.json(post);
  broadcast('updated', post.id, req.user, post);
}
app.patch('/api/posts/:id', update);
app.put('/api/posts/:id', update);

app.delete('/api/posts/:id', (req, res) => {
  const post = q.remove.get(Number(req.params.id));
  if (!post) return fail(res, 404, `post ${req.params.id} not found`);
  res.json(post);
  broadcast('deleted', post.id, req.user, null);
});

app.use('/api', (req, res) => fail(res, 404, 'no such API route'));

// ---------------------------------------------------------------- live

const server = http.createServer(app);
const io = new Server(server, { serveClient: false });

io.use((socket, next) => {
  const user = userOf(socket.handshake.headers.authorization) ||
    userOf(socket.handshake.auth && socket.handshake.auth.token && `Bearer ${socket.handshake.auth.token}`);
  if (!user) return next(new Error('not signed in'));
  socket.data.user = user;
  next();
});

io.on('connection', (socket) => {
  socket.on('subscribe', (msg) => {
    const channel = msg && msg.channel;
    if (channel !== CHANNEL) return socket.emit('error', { message: `unknown channel ${channel}` });
    socket.join(channel);
    socket.emit('subscribed', { channel });
  });
  socket.on('unsubscribe', (msg) => {
    if (msg && msg.channel) socket.leave(msg.channel);
  });
});

server.listen(PORT, HOST, () => {
  console.log(`peer listening on http://${HOST}:${PORT}`);
});

function stop() {
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
