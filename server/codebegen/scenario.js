// The life of one demo generation: the stages of the CodeBegen guide, in its order, with its
// emoji messages, progress on the guide's 0.0-1.0 scale.

const FILE_SETS = {
  fastapi_postgres: ['app/main.py', 'app/db.py', 'app/models/user.py', 'app/schemas/user.py', 'app/routers/users.py', 'app/auth.py', 'tests/test_users.py', 'Dockerfile', 'requirements.txt', 'README.md'],
  express_mongo: ['src/index.js', 'src/db.js', 'src/models/user.js', 'src/routes/users.js', 'src/middleware/auth.js', 'test/users.test.js', 'Dockerfile', 'package.json'],
  django: ['manage.py', 'project/settings.py', 'project/urls.py', 'api/models.py', 'api/views.py', 'api/serializers.py', 'api/tests.py', 'requirements.txt'],
};

export const DEMO_PROMPTS = [
  'Create a user management API with FastAPI',
  'Build a blog backend with posts, comments and tags',
  'Inventory service with stock reservations and audit log',
  'Todo API with teams, sharing and due-date reminders',
  'Invoice generator with PDF export and Stripe webhooks',
  'URL shortener with click analytics',
  'Booking API for a dental clinic 🦷 with SMS reminders',
  'Recipe catalogue with full-text search and ratings ⭐',
];

export function filesFor(techStack, random = Math.random) {
  const set = FILE_SETS[techStack] ?? FILE_SETS.fastapi_postgres;
  const count = Math.max(4, Math.min(set.length, 4 + Math.floor(random() * (set.length - 3))));
  return set.slice(0, count);
}

/**
 * @returns {Array<{status:string, stage:string, progress:number, message:string, current_file?:string, partial_output?:object, error?:string}>}
 */
export function planGeneration({ techStack, fail = false, random = Math.random }) {
  const files = filesFor(techStack, random);
  const steps = [
    { status: 'processing', stage: 'initializing', progress: 0.02, message: '⚙️ Setting up generation environment...' },
    { status: 'processing', stage: 'schema_extraction', progress: 0.08, message: '📋 Analyzing requirements and extracting schema...' },
    { status: 'processing', stage: 'schema_extraction', progress: 0.15, message: `📋 Schema extracted: ${2 + Math.floor(random() * 5)} entities` },
  ];
  files.forEach((file, index) => {
    steps.push({
      status: 'processing',
      stage: 'code_generation',
      progress: round(0.2 + 0.5 * ((index + 1) / files.length)),
      message: `📝 Generating API endpoints... (${index + 1}/${files.length} files)`,
      current_file: file,
      partial_output: { files_generated: files.slice(0, index + 1) },
    });
  });
  if (fail) {
    steps.push({
      status: 'failed',
      stage: 'failed',
      progress: 0.72,
      message: '❌ Generation failed: code review found an unresolvable import cycle',
      error: 'Import cycle between app/models and app/schemas could not be resolved',
    });
    return steps;
  }
  steps.push(
    { status: 'processing', stage: 'code_review', progress: 0.75, message: '🔍 Reviewing and improving code quality...' },
    { status: 'processing', stage: 'code_review', progress: 0.8, message: '🔍 Applied 3 review suggestions' },
    { status: 'processing', stage: 'documentation', progress: 0.86, message: '📚 Generating documentation...' },
    { status: 'processing', stage: 'finalizing', progress: 0.95, message: '✨ Finalizing and packaging results...' },
    {
      status: 'completed',
      stage: 'completed',
      progress: 1.0,
      message: '✅ Generation completed successfully!',
      partial_output: { files_generated: files, total_files: files.length },
    },
  );
  return steps;
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}
