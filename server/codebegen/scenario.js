// The life of one demo generation: the stages of the CodeBegen guide, in its order, with its
// emoji messages, progress on the guide's 0.0-1.0 scale.

const FILE_SETS = {
  fastapi_postgres: [
    'app/main.py',
    'app/db.py',
    'app/models/user.py',
    'app/schemas/user.py',
    'app/routers/users.py',
    'app/auth.py',
    'tests/test_users.py',
    'Dockerfile',
    'requirements.txt',
    'README.md',
  ],
  express_mongo: [
    'src/index.js',
    'src/db.js',
    'src/models/user.js',
    'src/routes/users.js',
    'src/middleware/auth.js',
    'test/users.test.js',
    'Dockerfile',
    'package.json',
  ],
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

const ITERATION_PHASES = [
  { name: 'Core Infrastructure', files: ['app/main.py', 'app/config.py', 'app/db.py', 'app/deps.py', 'app/security.py'] },
  { name: 'User Entity', files: ['app/models/user.py', 'app/schemas/user.py', 'app/routers/users.py', 'app/services/users.py'] },
  { name: 'Session Entity', files: ['app/models/session.py', 'app/schemas/session.py', 'app/routers/auth.py'] },
  { name: 'Audit Entity', files: ['app/models/audit.py', 'app/routers/audit.py'] },
  { name: 'Support Files', files: ['tests/test_users.py', 'tests/test_auth.py', 'Dockerfile', 'requirements.txt', 'README.md'] },
  { name: 'Main Application', files: ['app/__init__.py', 'app/app.py'] },
];

/**
 * The iteration guide's sequence: initializing, phased_generation_started with phase_info,
 * phase_N_complete with files per phase and running totals, file_management, an optional
 * data-loss warning, quality_assessment, completed. (The guide also shows a code_generation
 * event at 0.3 between initializing and phased_generation_started at 0.05; its progress
 * would run backwards, so the demo leaves it out.)
 */
export function planIteration({ modificationPrompt, parentFiles, fail = false }) {
  const total = ITERATION_PHASES.length;
  const steps = [
    { status: 'processing', stage: 'initializing', progress: 0.02, message: 'Starting classic generation...' },
    {
      status: 'processing',
      stage: 'phased_generation_started',
      progress: 0.05,
      message: 'Starting phased generation for 3 entities',
      phase_info: { total_phases: total, current_phase: 0, entities_count: 3 },
    },
  ];
  const saved = [];
  const progressAt = [0.2, 0.4, 0.55, 0.7, 0.85, 0.95];
  for (const [index, phase] of ITERATION_PHASES.entries()) {
    if (fail && index === 3) {
      steps.push({
        status: 'failed',
        stage: 'error',
        progress: 0.0,
        message: "Classic generation failed: 'FileManager' object has no attribute 'create_generation_zip'",
        error: "'FileManager' object has no attribute 'create_generation_zip'",
        partial_output: { files_saved: saved.slice() },
      });
      return steps;
    }
    saved.push(...phase.files);
    steps.push({
      status: 'processing',
      stage: `phase_${index + 1}_complete`,
      progress: progressAt[index],
      message: `Phase ${index + 1} complete: Generated ${phase.files.length} ${phase.name.toLowerCase()} files`,
      phase_info: { phase: index + 1, name: phase.name, files_generated: phase.files.length, total_files: saved.length },
      partial_output: { files_saved: saved.slice() },
    });
  }
  steps.push({ status: 'processing', stage: 'file_management', progress: 0.97, message: 'Organizing and saving files...' });
  const expected = Math.max(parentFiles, saved.length + (/remove|drop|delete/i.test(modificationPrompt) ? 2 : 0));
  if (expected > saved.length) {
    steps.push({
      status: 'processing',
      stage: 'validation',
      progress: 0.97,
      message: `⚠️ Warning: Expected ~${expected} files, got ${saved.length}. Some parent files may be missing.`,
      warning_type: 'data_loss_detection',
      parent_file_count: expected,
      new_file_count: saved.length,
    });
  }
  steps.push(
    { status: 'processing', stage: 'quality_assessment', progress: 0.99, message: 'Running quality assessment...' },
    {
      status: 'completed',
      stage: 'completed',
      progress: 1.0,
      message: `Iteration completed successfully with ${saved.length} files`,
      partial_output: { files_saved: saved.slice() },
    },
  );
  return steps;
}
