// Named points where the crash tests kill the process, to land a crash
// inside an operation (an index save, a refit) rather than only between
// operations.
//
// The environment variable SEMDB_CRASH_POINT=NAME[:N] makes the N-th
// (default first) arrival at CrashPoint(NAME) kill the process with SIGKILL,
// as an outside kill would. Unset (always, outside the crash tests), a
// crash point costs one relaxed atomic load.
#ifndef SEMDB_STORAGE_CRASH_POINT_H_
#define SEMDB_STORAGE_CRASH_POINT_H_

namespace semdb {

void CrashPoint(const char* name);

}  // namespace semdb

#endif  // SEMDB_STORAGE_CRASH_POINT_H_
