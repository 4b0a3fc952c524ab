# The figures of tests/missing_rows.rs: R's survey package on data/example.csv with
# d_nutr made missing in every row of the first PSU, H at k = 1/3 (the global MPI on the
# d_* columns) per round, nationally and for rural areas, with its standard error under
# both conventions for rows that miss an indicator:
#   drop   — the design is made of the complete rows only (as mpitb and mpitbR);
#   domain — the design is made of every row and subset to the complete ones (survey's
#            subset(), which keeps the rows outside the domain in the design).
#
#   Rscript scripts/survey-reference.R data/example.csv
#
# R and the survey package: Debian's r-base-core and r-cran-survey (4.1.1 here).
suppressMessages(library(survey))
options(digits = 15, survey.lonely.psu = "fail")
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], na.strings = c("", "NA"))
d$d_nutr[d$psu == d$psu[1]] <- NA
w <- c(d_nutr = 1/6, d_cm = 1/6, d_satt = 1/6, d_educ = 1/6, d_elct = 1/18,
       d_wtr = 1/18, d_sani = 1/18, d_hsg = 1/18, d_ckfl = 1/18, d_asst = 1/18)
m <- as.matrix(d[, names(w)])
d$complete <- stats::complete.cases(m)
# Scores over a common denominator of 18, so that 1/3 is compared exactly.
score18 <- as.vector(m %*% (w * 18))
d$poor <- as.numeric(d$complete & round(score18) >= 6)
d$rural <- d$area == "rural"
whole <- svydesign(ids = ~psu, strata = ~strata, weights = ~weight, data = d, nest = TRUE)
complete <- svydesign(ids = ~psu, strata = ~strata, weights = ~weight,
                      data = d[d$complete, ], nest = TRUE)
for (round_t in 1:2) {
  for (where in c("nat", "rural")) {
    dom <- subset(whole, complete & t == round_t & (where == "nat" | rural))
    drp <- subset(complete, t == round_t & (where == "nat" | rural))
    a <- svymean(~poor, dom); b <- svymean(~poor, drp)
    cat(sprintf("%d %s domain %.15g %.15g drop %.15g %.15g\n", round_t, where,
                coef(a), SE(a), coef(b), SE(b)))
  }
}

# The figures of tests/shares.rs: on data/example.csv as it is (the complete rows), each
# area's population share and contribution to M0 at k = 1/3 per round, as ratios of
# totals (svyratio), for the design with PSUs and with rows as their own PSUs.
d <- read.csv(commandArgs(trailingOnly = TRUE)[1], na.strings = c("", "NA"))
m <- as.matrix(d[, names(w)])
d <- d[stats::complete.cases(m), ]
m <- as.matrix(d[, names(w)])
score18 <- as.vector(m %*% (w * 18))
d$censored <- ifelse(round(score18) >= 6, score18 / 18, 0)
d$one <- 1
for (clustered in c(TRUE, FALSE)) {
  design <- if (clustered) {
    svydesign(ids = ~psu, strata = ~strata, weights = ~weight, data = d, nest = TRUE)
  } else {
    svydesign(ids = ~1, strata = ~strata, weights = ~weight, data = d)
  }
  for (round_t in 1:2) {
    r <- subset(design, t == round_t)
    for (level in c("rural", "urban")) {
      r <- update(r, inlevel = as.numeric(area == level),
                  inlevel_censored = as.numeric(area == level) * censored)
      p <- svyratio(~inlevel, ~one, r)
      k <- svyratio(~inlevel_censored, ~censored, r)
      cat(sprintf("%s %d %s popsh %.15g %.15g contrib %.15g %.15g\n",
                  if (clustered) "psu" else "rows", round_t, level,
                  coef(p), SE(p), coef(k), SE(k)))
    }
  }
}
