// ag::dist's process group: MPI start and stop, the collectives on tensors, and the handler that
// turns an exception on one rank into the end of the whole job.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <thread>

#include <autograd/engine.hpp>
#include <dist/comm.hpp>
#include <dist/dist.hpp>

namespace ag::dist {
namespace {

struct World {
  bool initialized = false;  // init() ran and finalize() did not
  bool mpi = false;          // MPI_Init ran in this process
  int rank = 0, size = 1;
};
World g_world;

// mpirun (Open MPI), srun with PMIx or PMI-2 (Slurm, MPICH) and hydra each leave one of these.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

// What an exception escaping main (or a destructor, or a noexcept function) ends in. Without it
// the failing rank dies alone and the others wait in their next collective forever.
[[noreturn]] void on_terminate() {
  std::string what = "std::terminate called without an active exception";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = std::string("uncaught exception: ") + ex.what();
    } catch (...) {
      what = "uncaught exception of a type not derived from std::exception";
    }
  }
  abort(what, 1);
}

// Each rank's share of this machine's cores, unless the user decides (AG_NUM_THREADS, or
// ag::set_num_threads after init).
void share_cores() {
  if (std::getenv("AG_NUM_THREADS")) {
    ag::set_num_threads(std::max(1, env_int("AG_NUM_THREADS", 1)));
    return;
  }
  if (!g_world.mpi) return;  // one process: keep ag's default (every core)
  int local = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("SLURM_NTASKS_PER_NODE", 1));
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ag::set_num_threads(std::max(1, cores / std::max(1, local)));
}

}  // namespace

namespace detail {

MPI_Datatype mpi_type(Dtype d) {
  switch (d) {
    case Dtype::Float32: return MPI_FLOAT;
    case Dtype::Float64: return MPI_DOUBLE;
    case Dtype::Int64: return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw Error(std::string("ag::dist: ") + what + " failed on rank " + std::to_string(g_world.rank) +
              ": " + std::string(text, static_cast<std::size_t>(length)));
}

bool active() { return g_world.mpi && g_world.size > 1; }

int count(std::size_t numel, const char* what) {
  if (numel > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(std::string("ag::dist: ") + what + ": " + std::to_string(numel) +
                " elements are more than one MPI call takes (2^31 - 1)");
  return static_cast<int>(numel);
}

}  // namespace detail

void init(int* argc, char*** argv) {
  if (g_world.initialized) return;
  if (launched_by_mpi()) {
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
      int provided = 0;  // MPI is called from the thread that runs backward, never from TBB's
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    }
    // Errors come back as codes and become ag::Error instead of killing the process silently.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_world.size);
    g_world.mpi = true;
    std::set_terminate(on_terminate);
  }
  share_cores();
  g_world.initialized = true;
}

void finalize() {
  if (!g_world.initialized) return;
  if (g_world.mpi) {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
  }
  g_world = World{};
}

bool is_initialized() { return g_world.initialized; }
bool using_mpi() { return g_world.mpi; }

int rank() {
  if (!g_world.initialized && launched_by_mpi())
    throw Error("ag::dist::rank: call ag::dist::init() first (this process was started by an MPI "
                "launcher)");
  return g_world.rank;
}

int world_size() {
  if (!g_world.initialized && launched_by_mpi())
    throw Error("ag::dist::world_size: call ag::dist::init() first (this process was started by "
                "an MPI launcher)");
  return g_world.size;
}

void abort(const std::string& message, int code) {
  std::fprintf(stderr, "ag::dist: rank %d of %d: %s\n", g_world.rank, g_world.size, message.c_str());
  std::fflush(stderr);
  if (g_world.mpi) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace ag::dist
