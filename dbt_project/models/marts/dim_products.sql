-- Every HS6 code of HS2017 and HS2022 with the product key it is compared under across the 2022 break and the
-- flags analysts filter on (int_reference__product_flags): CHP tier, export restriction, sanctions-debate group.
select * from {{ ref('int_reference__product_flags') }}
