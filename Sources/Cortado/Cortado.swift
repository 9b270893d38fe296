// The library as one import: `import Cortado` gives a program that embeds Cortado the
// targets below, in their layering order (docs/ARCHITECTURE.md, "Targets").
@_exported import CortadoBase
@_exported import CortadoIO
@_exported import CortadoConfig
@_exported import CortadoLayers
@_exported import CortadoNet
@_exported import CortadoSolvers
@_exported import CortadoDistributed
@_exported import CortadoMonitor
@_exported import CortadoExport
@_exported import CortadoDeploy
