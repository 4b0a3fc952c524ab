# The figures of tests/mpindex.rs: R mpindex's own example (its vignette's compute_mpi,
# by class) on the CSV copies of df_household and df_household_roster in
# ../shared/external.
#
#   Rscript scripts/mpindex-reference.R MPINDEX_SOURCES ../shared
#
# MPINDEX_SOURCES is a copy of github.com/yng-me/mpindex (0.3.0, commit ad3a3c9) whose R/
# files are sourced, not installed: its `tsg` import (column labels only) is not on
# Debian, so `tsg::rename_label(` must be replaced by `rename_label(` in the copy, and
# with Debian's dplyr 1.0.10 (stricter if_else types) line 61 of
# R/create-deprivation-matrix.R needs `as.numeric(.)` for `.`. Neither changes a value.
# R and dplyr, tibble, rlang, stringr, jsonlite, lifecycle: Debian's r-base-core and
# r-cran-* packages.
rename_label <- function(.data, ...) .data  # the shim: tsg only labels columns
args <- commandArgs(trailingOnly = TRUE)
src <- args[1]; shared <- args[2]
suppressMessages({library(dplyr); library(tibble); library(rlang); library(stringr)})
for (f in list.files(file.path(src, "R"), full.names = TRUE)) {
  if (!grepl("save-mpi|zzz", f)) source(f)
}
hh <- read.csv(file.path(shared, "external/mpindex_household.csv"), na.strings = "")
roster <- read.csv(file.path(shared, "external/mpindex_roster.csv"), na.strings = "")
specs <- define_mpi_specs(file.path(src, "inst/extdata/global-mpi-specs.csv"), uid = "uuid",
                          unit_of_analysis = "households")
res <- compute_mpi(
  hh, mpi_specs = specs,
  deprivations = list(
    nutrition = deprived(undernourished == 1 & age < 70, .data = roster, collapse_fn = max),
    child_mortality = deprived(with_child_died == 1),
    year_schooling = deprived(completed_6yrs_schooling == 2, .data = roster, collapse_fn = max),
    school_attendance = deprived(attending_school == 2 & age %in% 5:24, .data = roster, collapse_fn = max),
    cooking_fuel = deprived(cooking_fuel %in% c(4:6, 9)),
    sanitation = deprived(toilet > 1),
    drinking_water = deprived(drinking_water == 2),
    electricity = deprived(electricity == 2),
    housing = deprived(roof %in% c(5, 7, 9) | walls %in% c(5, 8, 9, 99) == 2 | floor %in% c(5, 6, 9)),
    assets = deprived(!((asset_tv + asset_telephone + asset_mobile_phone + asset_computer +
         asset_animal_cart + asset_bicycle + asset_motorcycle + asset_refrigerator) > 1 &
        (asset_car + asset_truck) > 0))
  ),
  by = class
)
options(digits = 15)
print(names(res))
print(as.data.frame(res$index))
print(as.data.frame(res$overall))
print(as.data.frame(res$contribution))
print(as.data.frame(res$headcount_ratio$uncensored))
