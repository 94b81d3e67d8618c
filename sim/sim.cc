// Placeholder translation unit until the simulator world lands in this library.
namespace keel::sim {}
