/*
 * calendar.c - civil dates (calendar.h). Howard Hinnant's algorithms.
 */
#include "core/calendar.h"

int fd_days_in_month(int year, int month)
{
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return DAYS[month - 1] + (month == 2 && leap);
}

int64_t fd_date_days(fd_date d)
{
    int y = d.year - (d.month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

fd_date fd_date_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int y = (int)(yoe + era * 400 + (m <= 2));
    return (fd_date){y, m, d};
}

fd_date fd_date_add_months(fd_date d, int months)
{
    int total = d.year * 12 + (d.month - 1) + months;
    fd_date r = {total / 12, total % 12 + 1, d.day};
    if (total < 0) r = (fd_date){(total - 11) / 12, ((total % 12) + 12) % 12 + 1, d.day};
    int last = fd_days_in_month(r.year, r.month);
    if (r.day > last) r.day = last;
    return r;
}
