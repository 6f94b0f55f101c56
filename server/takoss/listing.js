// genwatch's own discovery listing for the demo Takoss (the platform lists no running jobs):
// the generations the demo starts by itself, as their events say they are going. The same in
// both wire variants.

/** A listing of demo runs, the oldest forgotten beyond `maxJobs`. */
export function createRunListing(maxJobs) {
  const listed = new Map();
  return {
    /** A run to list under `id`: returns what to call with each of its events. */
    track(id, request) {
      const startedAt = new Date().toISOString();
      const entry = {
        id,
        projectName: request.projectName,
        requirements: request.requirements,
        status: 'running',
        phase: 'initialization',
        progress: 0,
        message: 'Queued',
        startedAt,
        updatedAt: startedAt,
      };
      listed.set(id, entry);
      if (listed.size > maxJobs) listed.delete(listed.keys().next().value);
      return (event) => {
        entry.updatedAt = new Date().toISOString();
        entry.message = event.message;
        if (event.type === 'error') {
          entry.status = 'failed';
          entry.error = event.message;
          return;
        }
        entry.phase = event.phase;
        entry.progress = event.progress;
        if (event.type === 'complete') entry.status = 'completed';
      };
    },
    /** newest first */
    list: (limit = 200) => [...listed.values()].reverse().slice(0, limit),
  };
}
